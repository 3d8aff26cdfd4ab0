/**
 * Starts a real Dovecot for tests from the configuration shipped in deploy/dovecot/, changing only
 * what a test machine needs (folders, loopback ports, a certificate made for the test, the test
 * database), so the tests exercise the very file an operator installs, TLS requirements included.
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../src/config';

const run = promisify(execFile);

export const DEPLOY_DIR = path.join(ROOT, 'deploy', 'dovecot');
/** Dovecot's auth socket for Postfix, a file of its own that dovecot.conf includes when present. */
const POSTFIX_AUTH_FILE = 'dovecot-postfix-auth.conf.ext';
export const INSTALL_HINT = 'run `bash .ci/install-dovecot.sh` (as root) to install Dovecot and the vmail user';

/**
 * Changes to a Dovecot configuration, keyed by section path and setting name, e.g.
 * `service imap-login/inet_listener imap/port`. A string replaces the value, a function maps it,
 * null removes the line. Every key must match a line: a renamed setting in the shipped file then
 * fails the tests instead of being silently ignored.
 */
export type ConfigEdits = Record<string, string | null | ((current: string) => string)>;

/** Renames of section headers, keyed by section path (e.g. a unix_listener's socket path). */
export type SectionRenames = Record<string, string>;

/** Applies edits to Dovecot's config syntax: one setting per line, braces closing on their own line. */
export function renderConfig(template: string, edits: ConfigEdits, renames: SectionRenames = {}): string {
  const stack: string[] = [];
  const unused = new Set([...Object.keys(edits), ...Object.keys(renames)]);
  const out: string[] = [];
  for (const line of template.split('\n')) {
    const open = /^(\s*)([^#={}]+?)\s*\{\s*$/.exec(line);
    if (open) {
      stack.push(open[2]);
      const key = stack.join('/');
      const renamed = renames[key];
      if (renamed !== undefined) unused.delete(key);
      out.push(renamed === undefined ? line : `${open[1]}${renamed} {`);
      continue;
    }
    if (/^\s*\}\s*$/.test(line)) {
      if (!stack.pop()) throw new Error('renderConfig: unbalanced "}"');
      out.push(line);
      continue;
    }
    const setting = /^(\s*)([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    const key = setting ? [...stack, setting[2]].join('/') : '';
    if (!setting || !(key in edits)) {
      out.push(line);
      continue;
    }
    unused.delete(key);
    const edit = edits[key];
    if (edit === null) continue;
    out.push(`${setting[1]}${setting[2]} = ${typeof edit === 'function' ? edit(setting[3]) : edit}`);
  }
  if (stack.length) throw new Error(`renderConfig: unclosed section ${stack.join('/')}`);
  if (unused.size) throw new Error(`renderConfig: no such setting or section in the template: ${[...unused].join(', ')}`);
  return out.join('\n');
}

export interface DovecotOptions {
  /** `sqlite:<file>` or `mysql://user:pass@host:port/db` (a user that may only read the view). */
  databaseUrl: string;
  /** Port of the SMTP server on 127.0.0.1 that submission relays to. */
  relayPort: number;
  /** Turns the auth cache on (`auth_cache_size`, off as shipped), negative answers cached too. */
  authCache?: boolean;
  /** The doveadm_api_key; several Dovecots of one app share theirs (DOVEADM_API_KEY). Random by default. */
  apiKey?: string;
  /** Turns IMAP hibernation on (`imap_hibernate_timeout`, e.g. '2s'; off as shipped). */
  hibernateTimeout?: string;
  /** The application's auth policy endpoint and its AUTH_POLICY_KEY; unset: no policy server. */
  authPolicy?: { url: string; key: string };
}

export interface Dovecot {
  /** IMAP with STARTTLS (143 in production). */
  imapPort: number;
  /** IMAP over implicit TLS (993). */
  imapsPort: number;
  /** POP3 with STARTTLS (110). */
  pop3Port: number;
  /** POP3 over implicit TLS (995). */
  pop3sPort: number;
  /** Submission with STARTTLS (587). */
  submissionPort: number;
  /** Submission over implicit TLS (465). */
  submissionsPort: number;
  /** The PEM certificate Dovecot presents (self-signed for 127.0.0.1 and localhost): trust it in clients. */
  caFile: string;
  /** doveadm HTTP API endpoint, as DOVEADM_URL would be set. */
  doveadmUrl: string;
  apiKey: string;
  /** The socket Postfix would use for SMTP AUTH (smtpd_sasl_type = dovecot). */
  authSocket: string;
  /** The folder holding the configuration, state, log and mail. */
  dir: string;
  configFile: string;
  readLog(): Promise<string>;
  stop(): Promise<void>;
}

interface SystemAccount {
  uid: number;
  gid: number;
}

async function systemAccount(kind: 'passwd' | 'group', name: string): Promise<number | undefined> {
  try {
    const { stdout } = await run('getent', [kind, name]);
    return Number(stdout.split(':')[2]);
  } catch {
    return undefined;
  }
}

/** Fails with a message saying how to install Dovecot, rather than letting the tests skip. */
export async function requireDovecot(): Promise<{ version: string; vmail: SystemAccount; dovecotGid: number }> {
  let version: string;
  try {
    version = (await run('dovecot', ['--version'])).stdout.trim();
  } catch {
    throw new Error(`Dovecot is not installed: ${INSTALL_HINT}`);
  }
  const [uid, gid, dovecotGid] = await Promise.all([
    systemAccount('passwd', 'vmail'),
    systemAccount('group', 'vmail'),
    systemAccount('group', 'dovecot'),
  ]);
  if (uid === undefined || gid === undefined || dovecotGid === undefined) {
    throw new Error(`The system users vmail and dovecot are missing: ${INSTALL_HINT}`);
  }
  if (process.getuid?.() !== 0) throw new Error('The Dovecot tests start Dovecot as root: run them as root');
  return { version, vmail: { uid, gid }, dovecotGid };
}

/** Distinct free TCP ports on 127.0.0.1: all are held open together, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The connect string of dovecot-sql-*.conf.ext for a database URL. */
export function sqlConnect(databaseUrl: string): { driver: 'mysql' | 'sqlite'; connect: string } {
  if (databaseUrl.startsWith('sqlite:')) return { driver: 'sqlite', connect: path.resolve(ROOT, databaseUrl.slice(7)) };
  const url = new URL(databaseUrl.replace(/^mariadb:/, 'mysql:'));
  const parts = {
    host: url.hostname,
    port: url.port || '3306',
    dbname: decodeURIComponent(url.pathname.slice(1)),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
  // Values are separated by spaces in Dovecot's connect string.
  for (const [name, value] of Object.entries(parts)) {
    if (/\s/.test(value)) throw new Error(`sqlConnect: ${name} must not contain white space`);
  }
  return { driver: 'mysql', connect: Object.entries(parts).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`).join(' ') };
}

/**
 * What README.md asks of an operator with SQLite: the group "dovecot" may read and write the folder
 * and the database (WAL readers write the -shm index), and new files in the folder keep that group.
 */
export async function shareSqliteWithDovecot(file: string, dovecotGid: number): Promise<void> {
  const folder = path.dirname(file);
  await fs.chown(folder, process.getuid?.() ?? 0, dovecotGid);
  await fs.chmod(folder, 0o2770);
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      await fs.chown(name, process.getuid?.() ?? 0, dovecotGid);
      await fs.chmod(name, 0o660);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

async function waitForGreeting(port: number, deadline: number): Promise<void> {
  for (;;) {
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('* OK'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (greeted) return;
    if (Date.now() > deadline) throw new Error(`Dovecot did not greet on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs a command that forks a daemon. The daemon keeps the command's stderr open, so waiting for
 * pipes to close (as execFile does) would never end: output goes to a file and only the exit counts.
 */
export async function daemonize(command: string, args: string[], outputFile: string): Promise<void> {
  const output = await fs.open(outputFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', output.fd, output.fd] });
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`${command} exited with ${code ?? signal}`)),
      );
    });
  } finally {
    await output.close();
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this Dovecot only:
 * clients trust exactly it (curl --cacert, Python's ssl.create_default_context(cafile=…)).
 */
export async function makeCertificate(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'tls-cert.pem');
  const keyFile = path.join(dir, 'tls-key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ]);
  await fs.chmod(keyFile, 0o600);
  await fs.chmod(certFile, 0o644);
  return { certFile, keyFile };
}

/** Writes a test configuration from deploy/dovecot into a temporary folder and starts Dovecot. */
export async function startDovecot(options: DovecotOptions): Promise<Dovecot> {
  const { vmail, dovecotGid } = await requireDovecot();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dovecot-'));
  // Dovecot's unprivileged processes (dovecot, vmail) reach their sockets and mail below it.
  await fs.chmod(dir, 0o755);
  const mailRoot = path.join(dir, 'vmail');
  await fs.mkdir(mailRoot, { mode: 0o700 });
  await fs.chown(mailRoot, vmail.uid, vmail.gid);

  const [imapPort, imapsPort, pop3Port, pop3sPort, submissionPort, submissionsPort, doveadmPort] = await freePorts(7);
  const { certFile, keyFile: tlsKeyFile } = await makeCertificate(dir);
  const apiKey = options.apiKey ?? crypto.randomBytes(24).toString('base64url');
  const keyFile = path.join(dir, 'doveadm-api.key');
  await fs.writeFile(keyFile, apiKey, { mode: 0o600 });

  // The shipped file reads the policy's header from a file; without a policy server, no URL.
  const policyHeaderFile = path.join(dir, 'auth-policy-header');
  await fs.writeFile(policyHeaderFile, `Authorization: Bearer ${options.authPolicy?.key ?? ''}`, { mode: 0o600 });

  // The two passdbs' args files (the account's password, app passwords), each on the test database.
  const { driver, connect } = sqlConnect(options.databaseUrl);
  const passdbArgs = new Map<string, string>();
  for (const kind of ['sql', 'app-passwords']) {
    const file = path.join(dir, `dovecot-${kind}.conf.ext`);
    const template = await fs.readFile(path.join(DEPLOY_DIR, `dovecot-${kind}-${driver}.conf.ext`), 'utf8');
    await fs.writeFile(file, renderConfig(template, { connect }), { mode: 0o600 });
    passdbArgs.set(`/etc/dovecot/dovecot-${kind}.conf.ext`, file);
  }

  const authSocket = path.join(dir, 'postfix-auth');
  const configFile = path.join(dir, 'dovecot.conf');
  const logFile = path.join(dir, 'dovecot.log');
  const template = await fs.readFile(path.join(DEPLOY_DIR, 'dovecot.conf'), 'utf8');
  const config = renderConfig(
    template,
    {
      listen: '127.0.0.1',
      base_dir: path.join(dir, 'run'),
      state_dir: path.join(dir, 'state'),
      log_path: logFile,
      // TLS stays required, as shipped: only the certificate is the test's own.
      ssl_cert: `<${certFile}`,
      ssl_key: `<${tlsKeyFile}`,
      'passdb/args': (args) => {
        const file = passdbArgs.get(args);
        if (!file) throw new Error(`deploy/dovecot/dovecot.conf has a passdb with unknown args: ${args}`);
        return file;
      },
      'userdb/args': (args) => args.replace(/home=\/var\/vmail\//, `home=${mailRoot}/`),
      'service imap-login/inet_listener imap/port': String(imapPort),
      'service imap-login/inet_listener imaps/port': String(imapsPort),
      'service pop3-login/inet_listener pop3/port': String(pop3Port),
      'service pop3-login/inet_listener pop3s/port': String(pop3sPort),
      'service submission-login/inet_listener submission/port': String(submissionPort),
      'service submission-login/inet_listener submissions/port': String(submissionsPort),
      submission_relay_port: String(options.relayPort),
      doveadm_api_key: `<${keyFile}`,
      'service doveadm/inet_listener http/port': String(doveadmPort),
      ...(options.authCache ? { auth_cache_size: '1M' } : {}),
      ...(options.hibernateTimeout ? { imap_hibernate_timeout: options.hibernateTimeout } : {}),
      auth_policy_server_url: options.authPolicy?.url ?? null,
      auth_policy_server_api_header: `<${policyHeaderFile}`,
    },
  );
  // The Postfix auth socket, as an operator with Postfix installs it: in the test folder.
  const postfixAuthFile = path.join(dir, POSTFIX_AUTH_FILE);
  const postfixAuth = await fs.readFile(path.join(DEPLOY_DIR, POSTFIX_AUTH_FILE), 'utf8');
  await fs.writeFile(
    postfixAuthFile,
    renderConfig(postfixAuth, {}, { 'service auth/unix_listener /var/spool/postfix/private/auth': `unix_listener ${authSocket}` }),
  );
  const include = `!include_try /etc/dovecot/${POSTFIX_AUTH_FILE}`;
  if (!config.includes(`\n${include}\n`)) throw new Error(`deploy/dovecot/dovecot.conf no longer has the line ${include}`);
  await fs.writeFile(
    configFile,
    `# Written by test/support/dovecot.ts from deploy/dovecot/dovecot.conf\n${config.replace(include, `!include ${postfixAuthFile}`)}\n`,
  );

  if (driver === 'sqlite') await shareSqliteWithDovecot(connect, dovecotGid);

  const readLog = () => fs.readFile(logFile, 'utf8').catch(() => '');
  const stop = async () => {
    const pid = Number(await fs.readFile(path.join(dir, 'run', 'master.pid'), 'utf8').catch(() => '0'));
    await run('doveadm', ['-c', configFile, 'stop']).catch(() => undefined);
    // `doveadm stop` only signals the master: wait for it before removing its folder.
    const deadline = Date.now() + 10_000;
    while (pid > 0 && isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
    // KEEP_DOVECOT_DIR=1 keeps the configuration and log for a look after the tests.
    if (!process.env.KEEP_DOVECOT_DIR) await fs.rm(dir, { recursive: true, force: true });
  };

  const startupFile = path.join(dir, 'startup.log');
  try {
    await daemonize('dovecot', ['-c', configFile], startupFile);
    await waitForGreeting(imapPort, Date.now() + 10_000);
  } catch (error) {
    const startup = await fs.readFile(startupFile, 'utf8').catch(() => '');
    const log = await readLog();
    await stop();
    throw new Error(`Dovecot did not start: ${(error as Error).message}\n${startup}\n${log}`);
  }

  return {
    imapPort,
    imapsPort,
    pop3Port,
    pop3sPort,
    submissionPort,
    submissionsPort,
    caFile: certFile,
    doveadmUrl: `http://127.0.0.1:${doveadmPort}/doveadm/v1`,
    apiKey,
    authSocket,
    dir,
    configFile,
    readLog,
    stop,
  };
}
