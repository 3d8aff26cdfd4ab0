import { mariadb, sqlite } from '../../test/support/databases';

/** A fresh database: a temporary SQLite file, or a new database on the MariaDB server (test/support/databases.ts). */
export async function freshDatabase(kind: 'sqlite' | 'mariadb', server = process.env.BENCH_MYSQL_URL as string): Promise<{ url: string; drop(): Promise<void> }> {
  return kind === 'sqlite' ? sqlite('pec-bench') : mariadb(server, 'pec_bench');
}
