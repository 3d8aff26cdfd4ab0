import fs from 'node:fs';
import path from 'node:path';
import { mariadb, mariadbNamed, sqlite } from '../../test/support/databases';

/** A fresh database: a temporary SQLite file, or a new database on the MariaDB server (test/support/databases.ts). */
export async function freshDatabase(kind: 'sqlite' | 'mariadb', server = process.env.BENCH_MYSQL_URL as string): Promise<{ url: string; drop(): Promise<void> }> {
  return kind === 'sqlite' ? sqlite('pec-bench') : mariadb(server, 'pec_bench');
}

/**
 * A database kept between runs: the SQLite file `name`, or with `server`, the database `name` on that MariaDB
 * server (created when missing); `existed` says whether an earlier run left it.
 */
export async function keptDatabase(name: string, server: string | undefined): Promise<{ url: string; existed: boolean }> {
  if (!server) return { url: `sqlite:${path.resolve(name)}`, existed: fs.existsSync(path.resolve(name)) };
  if (!/^\w+$/.test(name)) throw new Error('KEEP_DATABASE: a database name of letters, digits and _');
  return mariadbNamed(server, name);
}
