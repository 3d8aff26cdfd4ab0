/**
 * A real three-node MariaDB Galera cluster on loopback, from Debian's `mariadb-server` and
 * `galera-4`: each node a mariadbd of its own (temporary datadir, its own SQL, group, IST and SST
 * ports on 127.0.0.1), the first bootstrapped with --wsrep-new-cluster, the others joining it by
 * state transfer (rsync). Settings are the ones Galera requires (MariaDB's "Configuring MariaDB
 * Galera Cluster": binlog_format=ROW, innodb_autoinc_lock_mode=2), plus wsrep_mode
 * REQUIRED_PRIMARY_KEY and STRICT_REPLICATION, so that a table without a primary key or of an engine
 * Galera does not replicate fails the tests, not a cluster.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Sequelize } from 'sequelize';
import { freePort } from './faulty-smtp';

const run = promisify(execFile);

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const MARIADBD = '/usr/sbin/mariadbd';
export const INSTALL_HINT = 'run `bash scripts/install-test-tools.sh` (as root): it installs mariadb-server and galera-4';
const NODES = 3;
const READY_MS = 90_000;

export interface GaleraNode {
  name: string;
  /** The SQL port on 127.0.0.1. */
  port: number;
  /** `mysql://root@127.0.0.1:<port>/` plus `database` when given. */
  url(database?: string): string;
}

interface RunningNode extends GaleraNode {
  dir: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** The last lines of a node's error log: what a node that did not come up has to say. */
async function logTail(node: RunningNode, lines = 40): Promise<string> {
  const text = await fs.readFile(path.join(node.dir, 'error.log'), 'utf8').catch(() => '(no error log)');
  return text.split('\n').slice(-lines).join('\n');
}

function config(dir: string, name: string, port: number, group: number[], own: { group: number; ist: number; sst: number }): string {
  return [
    '[mariadbd]',
    `datadir=${path.join(dir, 'data')}`,
    `tmpdir=${path.join(dir, 'tmp')}`,
    `socket=${path.join(dir, 'mariadbd.sock')}`,
    `pid-file=${path.join(dir, 'mariadbd.pid')}`,
    `log-error=${path.join(dir, 'error.log')}`,
    `port=${port}`,
    'bind-address=127.0.0.1',
    'user=root',
    'skip-name-resolve',
    'binlog_format=ROW',
    'default_storage_engine=InnoDB',
    'innodb_autoinc_lock_mode=2',
    'innodb_buffer_pool_size=64M',
    // A test cluster: durability comes from the other nodes, not from fsync.
    'innodb_flush_log_at_trx_commit=0',
    'wsrep_on=ON',
    `wsrep_provider=${GALERA_PROVIDER}`,
    'wsrep_cluster_name=pec-test',
    `wsrep_cluster_address=gcomm://${group.map((p) => `127.0.0.1:${p}`).join(',')}`,
    `wsrep_node_name=${name}`,
    `wsrep_node_address=127.0.0.1:${own.group}`,
    `wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${own.group};ist.recv_addr=127.0.0.1:${own.ist};gcache.size=64M"`,
    'wsrep_sst_method=rsync',
    `wsrep_sst_receive_address=127.0.0.1:${own.sst}`,
    'wsrep_mode=REQUIRED_PRIMARY_KEY,STRICT_REPLICATION',
    '',
  ].join('\n');
}

async function status(node: GaleraNode): Promise<Record<string, string>> {
  const admin = new Sequelize(node.url(), { logging: false, dialect: 'mysql' });
  try {
    const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'wsrep_%'");
    return Object.fromEntries((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, r.Value]));
  } finally {
    await admin.close();
  }
}

/**
 * Waits until the node's wsrep status passes `ok`; fails with its error log when the node exits or
 * does not get there within READY_MS.
 */
async function waitUntil(node: RunningNode, what: string, ok: (wsrep: Record<string, string>) => boolean): Promise<void> {
  const deadline = Date.now() + READY_MS;
  let last = 'no answer yet';
  for (;;) {
    const exit = await Promise.race([node.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 250, undefined))]);
    if (exit !== undefined) throw new Error(`Galera ${node.name} exited (${exit}) before it was ${what}; its error log ends:\n${await logTail(node)}`);
    try {
      const wsrep = await status(node);
      last = `cluster size ${wsrep.wsrep_cluster_size}, state ${wsrep.wsrep_local_state_comment}`;
      if (ok(wsrep)) return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`Galera ${node.name} not ${what} within ${READY_MS} ms (${last}); its error log ends:\n${await logTail(node)}`);
  }
}

/** A joiner answers SQL once its state transfer is done. */
const answering = (node: RunningNode) => waitUntil(node, 'answering', (wsrep) => wsrep.wsrep_ready === 'ON');
const synced = (node: RunningNode) =>
  waitUntil(node, `Synced in a cluster of ${NODES}`, (wsrep) => wsrep.wsrep_cluster_size === String(NODES) && wsrep.wsrep_local_state_comment === 'Synced' && wsrep.wsrep_ready === 'ON');

export class GaleraCluster {
  private constructor(
    private readonly root: string,
    private readonly running: RunningNode[],
  ) {}

  get nodes(): readonly GaleraNode[] {
    return this.running;
  }

  /** Starts three nodes and resolves once all are Synced in one cluster of three. */
  static async start(): Promise<GaleraCluster> {
    for (const file of [MARIADBD, GALERA_PROVIDER]) {
      await fs.access(file).catch(() => {
        throw new Error(`The Galera suite needs ${file}: ${INSTALL_HINT}`);
      });
    }
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pec-galera-'));
    await fs.chmod(root, 0o755);
    const ports = await Promise.all(Array.from({ length: NODES }, async () => ({ sql: await freePort(), group: await freePort(), ist: await freePort(), sst: await freePort() })));
    const group = ports.map((p) => p.group);
    const specs = ports.map((p, i) => ({ name: `node${i + 1}`, dir: path.join(root, `node${i + 1}`), ...p }));
    await Promise.all(
      specs.map(async ({ name, dir, sql, ...own }) => {
        await fs.mkdir(path.join(dir, 'data'), { recursive: true });
        await fs.mkdir(path.join(dir, 'tmp'));
        await fs.writeFile(path.join(dir, 'my.cnf'), config(dir, name, sql, group, own));
        // root@localhost and root@127.0.0.1 without a password, as on the system server the other suites use.
        // Without the node's settings: the system tables are made by a plain server, wsrep off.
        await run('mariadb-install-db', ['--no-defaults', `--datadir=${path.join(dir, 'data')}`, `--tmpdir=${path.join(dir, 'tmp')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { maxBuffer: 1 << 24 }).catch(
          (error: { stdout?: string; stderr?: string }) => {
            throw new Error(`mariadb-install-db failed for ${name}:\n${error.stderr ?? ''}${error.stdout ?? ''}`);
          },
        );
        // rsync's SST daemon on a joiner, started by root, writes as `nobody` (rsyncd.conf's default uid).
        await run('chmod', ['-R', 'a+rwX', path.join(dir, 'data')]);
      }),
    );
    const cluster = new GaleraCluster(root, []);
    const launch = (spec: (typeof specs)[number], bootstrap: boolean): RunningNode => {
      const child = spawn(MARIADBD, [`--defaults-file=${path.join(spec.dir, 'my.cnf')}`, '--user=root', ...(bootstrap ? ['--wsrep-new-cluster'] : [])], { stdio: 'ignore' });
      const node: RunningNode = {
        name: spec.name,
        port: spec.sql,
        dir: spec.dir,
        process: child,
        exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
        url: (database = '') => `mysql://root@127.0.0.1:${spec.sql}/${database}`,
      };
      cluster.running.push(node);
      return node;
    };
    try {
      const [first, ...joiners] = specs;
      await answering(launch(first as (typeof specs)[number], true));
      // One joiner at a time: a node that is still receiving its state cannot be the next one's donor.
      for (const spec of joiners) await answering(launch(spec, false));
      await Promise.all(cluster.running.map(synced));
    } catch (error) {
      // A joiner's failure is often its donor's: every node's log goes with the error.
      const logs = await Promise.all(cluster.running.map(async (node) => `--- ${node.name} error log ends:\n${await logTail(node)}`));
      await cluster.stop();
      throw new Error(`${(error as Error).message}\n${logs.join('\n')}`);
    }
    return cluster;
  }

  /** One status variable of each node (e.g. wsrep_local_cert_failures), as numbers. */
  async counters(name: string): Promise<number[]> {
    return Promise.all(this.running.map(async (node) => Number((await status(node))[name] ?? NaN)));
  }

  /** Stops every node (SIGTERM, then SIGKILL after 20 s) and removes their files. */
  async stop(): Promise<void> {
    await Promise.all(
      this.running.map(async (node) => {
        if (node.process.exitCode !== null || node.process.signalCode !== null) return;
        node.process.kill('SIGTERM');
        const timer = setTimeout(() => node.process.kill('SIGKILL'), 20_000);
        await node.exited;
        clearTimeout(timer);
      }),
    );
    await fs.rm(this.root, { recursive: true, force: true });
  }
}
