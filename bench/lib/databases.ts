import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sequelize } from 'sequelize';

/** A fresh database: a temporary SQLite file, or a new database on the MariaDB server. */
export async function freshDatabase(kind: 'sqlite' | 'mariadb', server = process.env.BENCH_MYSQL_URL as string): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-bench-'));
    return { url: `sqlite:${path.join(dir, 'bench.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `pec_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(server, { logging: false, dialect: 'mysql' });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.close();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new Sequelize(server, { logging: false, dialect: 'mysql' });
      await again.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await again.close();
    },
  };
}
