import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';

/** The project's root folder: views, public files and migrations are found from here. */
export const ROOT = path.resolve(__dirname, '..');

export interface MailServerConfig {
  /** Host name that mail programs connect to for IMAP and SMTP submission. */
  imapHost: string;
  imapPort: number;
  submissionHost: string;
  submissionPort: number;
  /** doveadm HTTP API (e.g. http://127.0.0.1:8080/doveadm/v1); unset: no mail server to notify. */
  doveadmUrl?: string;
  doveadmApiKey?: string;
}

/** Attempts allowed per key within one window; the counters live in the database. */
export interface RateLimitConfig {
  windowSeconds: number;
  /** Failed sign-ins of untrusted clients (no device cookie for the account), per account. */
  signInPerAccount: number;
  signInPerIp: number;
  /** Failed sign-ins of a browser holding a device cookie for the account, per device cookie. */
  signInPerDevice: number;
  /** Live forgot-password links per account; further requests send nothing until one is used or expires. */
  forgotLinksPerAccount: number;
  forgotPerIp: number;
  passwordChangePerAccount: number;
}

/**
 * Emails an owner's actions send (invitations, resets, resends, deactivation notices), counted per
 * mailbox in the outbox over a sliding window; an action that would go over is refused (429).
 */
export interface MailLimitConfig {
  windowSeconds: number;
  /** To one recipient address (case-insensitive) from one mailbox. */
  perRecipient: number;
  /** From one mailbox in all. */
  perMailbox: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  baseUrl: string;
  databaseUrl: string;
  dataDir: string;
  smtpUrl?: string;
  /** How long an SMTP server may stay silent (greeting, any reply) before the attempt fails. */
  smtpTimeoutMs: number;
  mailFrom: string;
  sessionSecret: string;
  /** Link lifetimes, in seconds, per purpose. */
  linkTtl: { invitation: number; owner_reset: number; self_reset: number };
  bcryptCost: number;
  passwordMinLength: number;
  rateLimits: RateLimitConfig;
  mailLimits: MailLimitConfig;
  /** Run the outbox worker inside the web process. */
  inProcessWorker: boolean;
  /** How long a worker's claim on an outbox message holds before another worker may take it over. */
  outboxLeaseSeconds: number;
  mailServer: MailServerConfig;
  logLevel: string;
  /**
   * Express `trust proxy`: the proxies whose X-Forwarded-For/-Proto are believed (client IP, https),
   * as addresses, subnets or Express's names (`loopback`, `linklocal`, `uniquelocal`); false: none.
   */
  trustProxy: false | string[];
}

type Env = Record<string, string | undefined>;

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, or a subnet `address/prefix` narrower than the whole internet. */
function isProxyAddress(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits >= 1 && bits <= (family === 4 ? 32 : 128);
}

/**
 * The proxies to believe, as Express's `trust proxy` takes them. `true` (every client) and hop counts
 * are refused: with either, a client that reaches the app directly writes its own X-Forwarded-For,
 * its per-IP limits vanish and whatever it writes becomes its "IP".
 */
function trustProxy(raw: string | undefined): false | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true' || /^\d+$/.test(value)) {
    throw new Error(`TRUST_PROXY="${value}" would believe anyone's X-Forwarded-For: list the proxies' addresses instead (e.g. "loopback" or "10.0.0.5, 10.0.1.0/24")`);
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const wrong = entries.find((entry) => !PROXY_NAMES.includes(entry) && !isProxyAddress(entry));
  if (wrong !== undefined) {
    throw new Error(`TRUST_PROXY: "${wrong}" is not a proxy address, a subnet (10.0.1.0/24) or one of ${PROXY_NAMES.join(', ')}`);
  }
  return entries;
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${raw}"`);
  return value;
}

/** Kept in the data folder so that sessions survive a restart in development. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  const port = int(env, 'PORT', 3000);
  const dataDir = path.resolve(ROOT, env.DATA_DIR ?? 'data');
  const baseUrl = (env.BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new Error(`BASE_URL must be an absolute http(s) URL, got "${baseUrl}"`);
  if (nodeEnv === 'production' && !env.SESSION_SECRET) throw new Error('SESSION_SECRET is required in production');
  const host = new URL(baseUrl).hostname;
  return {
    env: nodeEnv,
    port,
    baseUrl,
    databaseUrl: env.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'app.sqlite')}`,
    dataDir,
    smtpUrl: env.SMTP_URL || undefined,
    smtpTimeoutMs: int(env, 'SMTP_TIMEOUT_MS', 30_000),
    mailFrom: env.MAIL_FROM ?? `PEC Webmail <no-reply@${host}>`,
    sessionSecret: env.SESSION_SECRET ?? developmentSecret(dataDir),
    linkTtl: {
      invitation: int(env, 'INVITATION_TTL_HOURS', 7 * 24) * 3600,
      owner_reset: int(env, 'RESET_TTL_HOURS', 72) * 3600,
      self_reset: int(env, 'SELF_RESET_TTL_MINUTES', 60) * 60,
    },
    bcryptCost: int(env, 'BCRYPT_COST', 12),
    passwordMinLength: int(env, 'PASSWORD_MIN_LENGTH', 15),
    rateLimits: {
      windowSeconds: int(env, 'RATE_LIMIT_WINDOW_MINUTES', 15) * 60,
      signInPerAccount: int(env, 'SIGN_IN_LIMIT_PER_ACCOUNT', 10),
      signInPerIp: int(env, 'SIGN_IN_LIMIT_PER_IP', 100),
      signInPerDevice: int(env, 'SIGN_IN_LIMIT_PER_DEVICE', 10),
      forgotLinksPerAccount: int(env, 'FORGOT_LIMIT_PER_USERNAME', 3),
      forgotPerIp: int(env, 'FORGOT_LIMIT_PER_IP', 20),
      passwordChangePerAccount: int(env, 'PASSWORD_CHANGE_LIMIT', 5),
    },
    mailLimits: {
      windowSeconds: int(env, 'MAIL_LIMIT_WINDOW_HOURS', 24, 1) * 3600,
      perRecipient: int(env, 'MAIL_LIMIT_PER_RECIPIENT', 5, 1),
      perMailbox: int(env, 'MAIL_LIMIT_PER_MAILBOX', 100, 1),
    },
    inProcessWorker: env.WORKER !== 'off',
    outboxLeaseSeconds: int(env, 'OUTBOX_LEASE_SECONDS', 60),
    mailServer: {
      imapHost: env.IMAP_HOST ?? `imap.${host}`,
      imapPort: int(env, 'IMAP_PORT', 993),
      submissionHost: env.SUBMISSION_HOST ?? `smtp.${host}`,
      submissionPort: int(env, 'SUBMISSION_PORT', 465),
      doveadmUrl: env.DOVEADM_URL || undefined,
      doveadmApiKey: env.DOVEADM_API_KEY || undefined,
    },
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    trustProxy: trustProxy(env.TRUST_PROXY),
  };
}
