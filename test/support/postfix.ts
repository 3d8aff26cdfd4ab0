/**
 * Starts Debian's Postfix for tests from the configuration shipped in deploy/postfix/, as an instance
 * of its own (`postfix -c DIR start`): configuration, queue and data folders in a temporary folder,
 * loopback ports, a certificate made here, relaying to the tests' SMTP sink. Only the values the
 * shipped files mark `SITE:` change, so the tests exercise the files an operator installs. The
 * sender milter (deploy/postfix/sender-milter.py) runs beside it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../src/config';
import { daemonize, freePorts, isRunning, makeCertificate, sqlConnect } from './dovecot';

const run = promisify(execFile);

export const POSTFIX_DIR = path.join(ROOT, 'deploy', 'postfix');
const INSTALL_HINT = 'run `bash .ci/install-dovecot.sh` (as root) to install Postfix, postfix-sqlite, postfix-mysql and python3-milter';

/**
 * Replaces the values of `key = value` lines of a main.cf-style file (main.cf, the lookup tables).
 * Every key must exist once and, when `siteOnly`, sit right below a `# SITE:` comment: a renamed
 * setting, or a test changing what an operator does not, fails the tests.
 */
export function renderMainCf(template: string, edits: Record<string, string>, { siteOnly = true } = {}): string {
  const lines = template.split('\n');
  for (const [key, value] of Object.entries(edits)) {
    const index = lines.findIndex((line) => new RegExp(`^${key}\\s*=`).test(line));
    if (index < 0) throw new Error(`renderMainCf: no setting ${key} in the template`);
    if (siteOnly && !/^#\s*SITE:/.test(lines[index - 1] ?? '')) throw new Error(`renderMainCf: ${key} is not marked SITE:`);
    lines[index] = `${key} = ${value}`;
  }
  return lines.join('\n');
}

/** Renames services of master.cf (the first column: `submission` → `127.0.0.1:2587`); each below a `# SITE:` comment. */
export function renderMasterCf(template: string, renames: Record<string, string>): string {
  const lines = template.split('\n');
  for (const [service, name] of Object.entries(renames)) {
    const index = lines.findIndex((line) => line.split(/\s+/)[0] === service && /\sinet\s/.test(line));
    if (index < 0) throw new Error(`renderMasterCf: no inet service ${service} in the template`);
    if (!/^#\s*SITE:/.test(lines[index - 1] ?? '')) throw new Error(`renderMasterCf: ${service} is not marked SITE:`);
    lines[index] = `${name} ${(lines[index] as string).slice(service.length).trimStart()}`;
  }
  return lines.join('\n');
}

/** Fails with a message saying how to install what is missing, rather than letting the tests skip. */
export async function requirePostfix(): Promise<string> {
  let version: string;
  try {
    version = (await run('postconf', ['-d', '-h', 'mail_version'])).stdout.trim();
    await run('/usr/bin/python3', ['-c', 'import Milter']);
  } catch {
    throw new Error(`Postfix or python3-milter is not installed: ${INSTALL_HINT}`);
  }
  const maps = await fs.readFile('/etc/postfix/dynamicmaps.cf', 'utf8').catch(() => '');
  if (!/^sqlite\s/m.test(maps) || !/^mysql\s/m.test(maps)) throw new Error(`Postfix has no sqlite or mysql tables: ${INSTALL_HINT}`);
  if (process.getuid?.() !== 0) throw new Error('The Postfix tests start Postfix as root: run them as root');
  return version;
}

/**
 * What README.md asks of an operator with SQLite: the user postfix may read and write the folder and
 * the database files (a WAL reader writes the -shm index), new files in the folder included.
 */
export async function shareSqliteWithPostfix(file: string): Promise<void> {
  const folder = path.dirname(file);
  await run('setfacl', ['-m', 'u:postfix:rwx', folder]);
  await run('setfacl', ['-d', '-m', 'u:postfix:rw', folder]);
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    await run('setfacl', ['-m', 'u:postfix:rw', name]).catch((error: { stderr?: string }) => {
      if (!/No such file/.test(error.stderr ?? '')) throw error;
    });
  }
}

export interface PostfixOptions {
  /** `sqlite:<file>` or `mysql://user:pass@host:port/db` (a user that may only read the view). */
  databaseUrl: string;
  /** Port of the SMTP sink on 127.0.0.1 that Postfix relays to (relayhost). */
  relayPort: number;
  /** Dovecot's auth socket for Postfix (Dovecot['authSocket']). */
  authSocket: string;
  /** Port of the service that receives Dovecot's submission relay; a free one when unset. */
  dovecotRelayPort?: number;
}

export interface Postfix {
  /** STARTTLS submission (587 in the shipped file). */
  submissionPort: number;
  /** Implicit TLS submission (465). */
  submissionsPort: number;
  /** Where Dovecot's submission relays (submission_relay_port). */
  dovecotRelayPort: number;
  /** The PEM certificate Postfix presents (self-signed for 127.0.0.1 and localhost): trust it in clients. */
  caFile: string;
  dir: string;
  readLog(): Promise<string>;
  /** Stops the sender milter alone, as when it crashes. */
  stopMilter(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForSmtpGreeting(port: number, deadline: number): Promise<void> {
  for (;;) {
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.end('QUIT\r\n');
        resolve(data.toString().startsWith('220'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (greeted) return;
    if (Date.now() > deadline) throw new Error(`nothing greeted on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes a test configuration from deploy/postfix into a temporary folder and starts Postfix and the milter. */
export async function startPostfix(options: PostfixOptions): Promise<Postfix> {
  await requirePostfix();
  // maillog_file must lie below a maillog_file_prefixes entry: /var by default.
  const dir = await fs.mkdtemp('/var/tmp/postfix-');
  await fs.chmod(dir, 0o755);
  const configDir = path.join(dir, 'conf');
  const queueDir = path.join(dir, 'queue');
  const dataDir = path.join(dir, 'data');
  await Promise.all([configDir, queueDir, dataDir].map((folder) => fs.mkdir(folder)));
  // Postfix's master locks and caches below data_directory as the user postfix.
  await run('chown', ['postfix', dataDir]);

  const [submissionPort, submissionsPort, milterPort, freeRelayPort] = await freePorts(4);
  const dovecotRelayPort = options.dovecotRelayPort ?? (freeRelayPort as number);

  const { certFile, keyFile } = await makeCertificate(configDir);

  const { driver, connect } = sqlConnect(options.databaseUrl);
  const mapsTemplate = await fs.readFile(path.join(POSTFIX_DIR, `sender-login-maps-${driver}.cf`), 'utf8');
  const mapsFile = path.join(configDir, `sender-login-maps-${driver}.cf`);
  if (driver === 'sqlite') {
    await fs.writeFile(mapsFile, renderMainCf(mapsTemplate, { dbpath: connect }));
    await shareSqliteWithPostfix(connect);
  } else {
    const url = new URL(options.databaseUrl.replace(/^mariadb:/, 'mysql:'));
    const edits = {
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      hosts: `inet:${url.hostname}:${url.port || '3306'}`,
      dbname: decodeURIComponent(url.pathname.slice(1)),
    };
    await fs.writeFile(mapsFile, renderMainCf(mapsTemplate, edits), { mode: 0o640 });
    await run('chgrp', ['postfix', mapsFile]);
  }

  const logFile = path.join(dir, 'postfix.log');
  const main = renderMainCf(await fs.readFile(path.join(POSTFIX_DIR, 'main.cf'), 'utf8'), {
    queue_directory: queueDir,
    data_directory: dataDir,
    maillog_file: logFile,
    relayhost: `[127.0.0.1]:${options.relayPort}`,
    smtpd_tls_cert_file: certFile,
    smtpd_tls_key_file: keyFile,
    smtpd_sasl_path: options.authSocket,
    smtpd_sender_login_maps: `${driver}:${mapsFile}`,
    pec_sender_milter: `inet:127.0.0.1:${milterPort}`,
  });
  const master = renderMasterCf(await fs.readFile(path.join(POSTFIX_DIR, 'master.cf'), 'utf8'), {
    submission: `127.0.0.1:${submissionPort}`,
    submissions: `127.0.0.1:${submissionsPort}`,
    '127.0.0.1:10587': `127.0.0.1:${dovecotRelayPort}`,
  });
  await fs.writeFile(path.join(configDir, 'main.cf'), `${main}\n`);
  await fs.writeFile(path.join(configDir, 'master.cf'), `${master}\n`);

  const milterOutput: string[] = [];
  const milter: ChildProcess = spawn(path.join(POSTFIX_DIR, 'sender-milter.py'), [`inet:${milterPort}@127.0.0.1`], { stdio: ['ignore', 'pipe', 'pipe'] });
  milter.stdout?.on('data', (chunk: Buffer) => milterOutput.push(chunk.toString()));
  milter.stderr?.on('data', (chunk: Buffer) => milterOutput.push(chunk.toString()));

  const readLog = async () => `${await fs.readFile(logFile, 'utf8').catch(() => '')}\n--- milter ---\n${milterOutput.join('')}`;
  const stopMilter = async () => {
    if (milter.exitCode !== null || milter.signalCode !== null) return;
    const exited = new Promise((resolve) => milter.once('exit', resolve));
    milter.kill('SIGTERM');
    await exited;
  };
  const stop = async () => {
    const pid = Number(await fs.readFile(path.join(queueDir, 'pid', 'master.pid'), 'utf8').catch(() => '0'));
    await run('postfix', ['-c', configDir, 'stop']).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (pid > 0 && isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
    await stopMilter();
    // KEEP_POSTFIX_DIR=1 keeps the configuration and log for a look after the tests.
    if (!process.env.KEEP_POSTFIX_DIR) await fs.rm(dir, { recursive: true, force: true });
  };

  const checkFile = path.join(dir, 'check.log');
  const startupFile = path.join(dir, 'startup.log');
  try {
    // `postfix check` is what README.md has the operator run; it must pass on the shipped files.
    await daemonize('postfix', ['-c', configDir, 'check'], checkFile);
    await daemonize('postfix', ['-c', configDir, 'start'], startupFile);
    const deadline = Date.now() + 10_000;
    await Promise.all([submissionPort, dovecotRelayPort].map((port) => waitForSmtpGreeting(port, deadline)));
    // Implicit TLS (and the milter) say nothing first: a listening port is enough.
    await Promise.all([submissionsPort, milterPort].map((port) => waitForListener(port, deadline)));
  } catch (error) {
    const startup = (await Promise.all([checkFile, startupFile].map((file) => fs.readFile(file, 'utf8').catch(() => '')))).join('\n');
    const log = await readLog();
    await stop();
    throw new Error(`Postfix did not start: ${(error as Error).message}\n${startup}\n${log}`);
  }
  const startup = (await Promise.all([checkFile, startupFile].map((file) => fs.readFile(file, 'utf8')))).join('\n');
  if (/warning|fatal/i.test(startup)) {
    await stop();
    throw new Error(`postfix check or start complained about the shipped files:\n${startup}`);
  }

  return { submissionPort, submissionsPort, dovecotRelayPort, caFile: certFile, dir, readLog, stopMilter, stop };
}

async function waitForListener(port: number, deadline: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
