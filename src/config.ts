import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

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
  signInPerAccount: number;
  signInPerIp: number;
  forgotPerUsername: number;
  forgotPerIp: number;
  passwordChangePerAccount: number;
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
  /** Run the outbox worker inside the web process. */
  inProcessWorker: boolean;
  /** How long a worker's claim on an outbox message holds before another worker may take it over. */
  outboxLeaseSeconds: number;
  mailServer: MailServerConfig;
  logLevel: string;
  /** Express `trust proxy`: which proxies' X-Forwarded-For/-Proto to believe (client IP, https). */
  trustProxy: boolean | number | string;
}

type Env = Record<string, string | undefined>;

/** `true`/`false`, a hop count, or addresses and names (`loopback`, `10.0.0.1, 10.0.0.2`) as Express takes them. */
function trustProxy(raw: string | undefined): boolean | number | string {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function int(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? '' : ` from ${min} to ${max}`;
    throw new Error(`${name} must be a whole number${range}, got "${raw}"`);
  }
  return value;
}

/** 32 characters hold 128 bits even as hex; a shorter secret can be guessed offline from one signed cookie. */
export const MIN_SECRET_LENGTH = 32;

/** Kept in the data folder so that sessions survive a restart in development. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  if (fs.existsSync(file)) {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (kept.length < MIN_SECRET_LENGTH) throw new Error(`${file} holds a secret shorter than ${MIN_SECRET_LENGTH} characters: delete it and a new one is made`);
    return kept;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Plain http is for a browser on the same machine only (which browsers also treat as secure). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * What production cannot run without: a real mail server (else invitations are "sent" into a file
 * nobody reads), the public URL every emailed link is built from, over https (links carry
 * single-use tokens; session cookies are Secure only then), and a session secret of its own.
 */
function productionProblems(env: Env, baseUrl: string): string[] {
  const problems: string[] = [];
  const missing = ['SMTP_URL', 'BASE_URL', 'SESSION_SECRET'].filter((name) => !env[name]);
  if (missing.length) problems.push(`production needs ${missing.join(', ')}`);
  const url = new URL(baseUrl);
  if (env.BASE_URL && url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    problems.push(`BASE_URL must be https:// in production, got "${baseUrl}"`);
  }
  return problems;
}

/**
 * The configuration from the environment. Throws an Error whose message is one line naming every
 * variable that is wrong or missing; nothing is started before it returns.
 */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  const port = int(env, 'PORT', 3000, { max: 65_535 });
  const dataDir = path.resolve(ROOT, env.DATA_DIR ?? 'data');
  const baseUrl = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl) || !URL.canParse(baseUrl)) throw new Error(`BASE_URL must be an absolute http(s) URL, got "${baseUrl}"`);
  const problems = nodeEnv === 'production' ? productionProblems(env, baseUrl) : [];
  if (env.SESSION_SECRET && env.SESSION_SECRET.length < MIN_SECRET_LENGTH) {
    problems.push(`SESSION_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
  }
  // Neither value is repeated: both may carry a password.
  if (env.SMTP_URL && !/^smtps?:\/\/[^/]/.test(env.SMTP_URL)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  if (env.DATABASE_URL && !/^(sqlite:.|(mysql|mariadb):\/\/[^/])/.test(env.DATABASE_URL)) {
    problems.push('DATABASE_URL must be sqlite:<file> or mysql://user:pass@host:port/db');
  }
  // One without the other used to mean every kick was "delivered" as a silent no-op.
  if (Boolean(env.DOVEADM_URL) !== Boolean(env.DOVEADM_API_KEY)) problems.push('DOVEADM_URL and DOVEADM_API_KEY must be set together');
  if (env.DOVEADM_URL && !/^https?:\/\/[^/]/.test(env.DOVEADM_URL)) problems.push(`DOVEADM_URL must be an http(s) URL, got "${env.DOVEADM_URL}"`);
  const logLevel = env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  if (problems.length) throw new Error(problems.join('; '));
  const host = new URL(baseUrl).hostname;
  return {
    env: nodeEnv,
    port,
    baseUrl,
    databaseUrl: env.DATABASE_URL || `sqlite:${path.join(dataDir, 'app.sqlite')}`,
    dataDir,
    smtpUrl: env.SMTP_URL || undefined,
    smtpTimeoutMs: int(env, 'SMTP_TIMEOUT_MS', 30_000),
    mailFrom: env.MAIL_FROM ?? `PEC Webmail <no-reply@${host}>`,
    sessionSecret: env.SESSION_SECRET || developmentSecret(dataDir),
    linkTtl: {
      invitation: int(env, 'INVITATION_TTL_HOURS', 7 * 24) * 3600,
      owner_reset: int(env, 'RESET_TTL_HOURS', 72) * 3600,
      self_reset: int(env, 'SELF_RESET_TTL_MINUTES', 60) * 60,
    },
    // bcrypt's own bounds: a cost outside them would fail only at the first password.
    bcryptCost: int(env, 'BCRYPT_COST', 12, { min: 4, max: 31 }),
    passwordMinLength: int(env, 'PASSWORD_MIN_LENGTH', 15),
    rateLimits: {
      windowSeconds: int(env, 'RATE_LIMIT_WINDOW_MINUTES', 15) * 60,
      signInPerAccount: int(env, 'SIGN_IN_LIMIT_PER_ACCOUNT', 10),
      signInPerIp: int(env, 'SIGN_IN_LIMIT_PER_IP', 100),
      forgotPerUsername: int(env, 'FORGOT_LIMIT_PER_USERNAME', 3),
      forgotPerIp: int(env, 'FORGOT_LIMIT_PER_IP', 20),
      passwordChangePerAccount: int(env, 'PASSWORD_CHANGE_LIMIT', 5),
    },
    inProcessWorker: env.WORKER !== 'off',
    outboxLeaseSeconds: int(env, 'OUTBOX_LEASE_SECONDS', 60),
    mailServer: {
      imapHost: env.IMAP_HOST ?? `imap.${host}`,
      imapPort: int(env, 'IMAP_PORT', 993, { min: 1, max: 65_535 }),
      submissionHost: env.SUBMISSION_HOST ?? `smtp.${host}`,
      submissionPort: int(env, 'SUBMISSION_PORT', 465, { min: 1, max: 65_535 }),
      doveadmUrl: env.DOVEADM_URL || undefined,
      doveadmApiKey: env.DOVEADM_API_KEY || undefined,
    },
    logLevel,
    trustProxy: trustProxy(env.TRUST_PROXY),
  };
}
