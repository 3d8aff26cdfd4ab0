import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Sequelize } from 'sequelize';

export interface TestDatabase {
  name: 'SQLite' | 'MariaDB';
  url: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file in a temporary folder (`prefix` names it). */
export async function sqlite(prefix = 'pec-test'): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { name: 'SQLite', url: `sqlite:${path.join(dir, 'app.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Database `name` on the server at `serverUrl`, created (utf8mb4) unless it exists: its URL, and whether it
 * existed. Unreachable is an error, never a skip.
 */
export async function mariadbNamed(serverUrl: string, name: string): Promise<{ url: string; existed: boolean }> {
  const admin = new Sequelize(serverUrl, { logging: false, dialect: 'mysql' });
  try {
    const [found] = await admin.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', { replacements: [name] });
    if (found.length === 0) await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), existed: found.length > 0 };
  } finally {
    await admin.close();
  }
}

/** A fresh database (`prefix` and random hex) on the server at `serverUrl`; unreachable is an error, never a skip. */
export async function mariadb(serverUrl: string, prefix = 'pec_test'): Promise<TestDatabase> {
  const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
  const { url } = await mariadbNamed(serverUrl, name);
  return {
    name: 'MariaDB',
    url,
    async drop() {
      const again = new Sequelize(serverUrl, { logging: false, dialect: 'mysql' });
      await again.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await again.close();
    },
  };
}

/** The databases every integration suite runs on: SQLite always, MariaDB when TEST_MYSQL_URL is set. */
export const DATABASES: Array<{ name: TestDatabase['name']; create: () => Promise<TestDatabase> }> = [
  { name: 'SQLite', create: sqlite },
  ...(process.env.TEST_MYSQL_URL ? [{ name: 'MariaDB' as const, create: () => mariadb(process.env.TEST_MYSQL_URL as string) }] : []),
];

/** The database user Dovecot and Postfix connect with: it may only SELECT the views, as their READMEs ask. */
export async function readOnlyMysqlUrl(appUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = new URL(appUrl);
  const database = decodeURIComponent(server.pathname.slice(1));
  const name = `dovecot_${crypto.randomBytes(4).toString('hex')}`;
  const password = crypto.randomBytes(16).toString('hex');
  const admin = new Sequelize(appUrl, { logging: false, dialect: 'mysql' });
  await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
  for (const view of ['mail_accounts', 'mail_app_passwords']) await admin.query(`GRANT SELECT ON \`${database}\`.\`${view}\` TO '${name}'@'%'`);
  await admin.close();
  const url = new URL(appUrl);
  url.username = name;
  url.password = password;
  return {
    url: url.toString(),
    async drop() {
      const again = new Sequelize(appUrl, { logging: false, dialect: 'mysql' });
      await again.query(`DROP USER IF EXISTS '${name}'@'%'`);
      await again.close();
    },
  };
}
