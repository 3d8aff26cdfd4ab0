import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';

/** The folder holding package.json, above `dir`; throws when there is none. */
function packageRoot(dir: string): string {
  if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  const parent = path.dirname(dir);
  if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
  return packageRoot(parent);
}

/**
 * The project's root folder, the one holding package.json, whether this runs from src/ (tsx) or
 * from its compiled copy in dist/src/: views, public files and the data folder are found from here.
 */
export const ROOT = packageRoot(__dirname);

/**
 * How a mail program secures a connection (RFC 8314): `ssl`, TLS from the first byte (993, 995,
 * 465); `starttls`, plain text upgraded before anything else is sent (143, 110, 587). Stated in
 * configuration, never guessed from the port.
 */
export type MailSecurity = 'ssl' | 'starttls';

export interface MailService {
  host: string;
  port: number;
  security: MailSecurity;
}

/**
 * Where and how mail programs connect. One description, read by the account page, the emails,
 * autoconfig, Autodiscover and the Apple profile, so that they can never disagree.
 */
export interface MailProgramSettings {
  imap: MailService;
  pop3: MailService;
  submission: MailService;
}

export interface MailServerConfig extends MailProgramSettings {
  /** Mail domains autoconfig and Autodiscover answer for (MAIL_DOMAINS); empty: those of the installation's mailboxes. */
  domains: string[];
  /** doveadm HTTP API of every Dovecot (DOVEADM_URLS, e.g. http://127.0.0.1:8080/doveadm/v1); empty: no mail server to notify. */
  doveadmUrls: string[];
  /** The doveadm_api_key the Dovecots share (DOVEADM_API_KEY); set whenever doveadmUrls is not empty. */
  doveadmApiKey?: string;
  /** The secret Dovecot's auth policy requests carry (AUTH_POLICY_KEY); unset: the policy endpoint is off. */
  authPolicyKey?: string;
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

/** The OpenID Connect providers people may link and sign in with (issue 16), by their name in the environment. */
export const OIDC_PROVIDER_NAMES = ['google', 'microsoft'] as const;
export type OidcProviderName = (typeof OIDC_PROVIDER_NAMES)[number];
const OIDC_PROVIDER_LABELS: Record<OidcProviderName, string> = { google: 'Google', microsoft: 'Microsoft' };

/** A provider's name as people know it (`Google`), in pages, emails and the activity log; an unknown name as it is. */
export function providerLabel(name: string): string {
  return OIDC_PROVIDER_LABELS[name as OidcProviderName] ?? name;
}

/** One configured provider: `OIDC_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`. */
export interface OidcProviderConfig {
  name: OidcProviderName;
  /** The issuer URL; its `/.well-known/openid-configuration` is the discovery document. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface OidcConfig {
  /** Only the configured ones, in OIDC_PROVIDER_NAMES order: the others are not shown. */
  providers: OidcProviderConfig[];
  /**
   * `acr` values (OIDC_MFA_ACR, comma-separated) that say the provider asked for a second factor:
   * a sign-in with one of them, or with an `amr` naming a second factor, skips our second step.
   */
  mfaAcrValues: string[];
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  baseUrl: string;
  /**
   * Where emailed links point, `<linksUrl>/<token>`: BASE_URL and the path the feature's link pages
   * are mounted at (`/password` in the standalone app; a host's own prefix when it mounts the feature).
   */
  linksUrl: string;
  /**
   * Where the owner's Collaborations pages are, for the links of the owner's notices: BASE_URL and the
   * path the feature's owner part is mounted at (`/settings/collaborations` in the standalone app).
   */
  ownerPagesUrl: string;
  databaseUrl: string;
  dataDir: string;
  /**
   * Seed the demo mailbox (published passwords) into an empty database: only for `npm start` on a fresh
   * clone, i.e. development with neither DATABASE_URL nor DATA_DIR set, nor SMTP_URL (the demo's
   * invitations would go out through a real server to made-up addresses). An installation on a file of
   * its own never gets it, whatever NODE_ENV says: a demo collaborator could sign in to its Dovecot.
   */
  demoData: boolean;
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
  /** At SIGTERM or SIGINT, how long (ms) the requests already accepted may take before their connections are cut. */
  shutdownGraceMs: number;
  /** How many rendered list pages each process keeps (src/plugin/list-cache.ts); 0: none. */
  listCacheEntries: number;
  /** Days before a collaborator's end of access that its owner is reminded (ACCESS_REMINDER_DAYS, 1 to 60). */
  accessReminderDays: number;
  mailServer: MailServerConfig;
  logLevel: string;
  /**
   * The bearer token Prometheus sends for /metrics (METRICS_TOKEN); unset: /metrics is not served.
   * At least MIN_SECRET_LENGTH characters of at least 10 different ones.
   */
  metricsToken?: string;
  /**
   * Express `trust proxy`: the proxies whose X-Forwarded-For/-Proto are believed (client IP, https),
   * as addresses, subnets or Express's names (`loopback`, `linklocal`, `uniquelocal`); false: none.
   */
  trustProxy: false | string[];
  oidc: OidcConfig;
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

function int(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max !== Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : '';
    throw new Error(`${name} must be a whole number${range}, got "${raw}"`);
  }
  return value;
}

const SECURITIES: readonly MailSecurity[] = ['ssl', 'starttls'];

/**
 * `<PREFIX>_HOST`, `_PORT` and `_SECURITY` of one mail service. A port given without its security is
 * refused: guessing TLS from the port made the page, the emails and the profiles contradict each other.
 */
function mailService(env: Env, prefix: string, fallback: MailService, problems: string[]): MailService {
  const securityName = `${prefix}_SECURITY`;
  const raw = env[securityName] || undefined;
  if (raw === undefined && env[`${prefix}_PORT`]) problems.push(`${prefix}_PORT is set: set ${securityName} too (ssl or starttls)`);
  if (raw !== undefined && !SECURITIES.includes(raw as MailSecurity)) problems.push(`${securityName} must be ssl or starttls, got "${raw}"`);
  return {
    host: env[`${prefix}_HOST`] || fallback.host,
    port: int(env, `${prefix}_PORT`, fallback.port, { min: 1, max: 65_535 }),
    security: (raw as MailSecurity | undefined) ?? fallback.security,
  };
}

const list = (raw: string | undefined): string[] => (raw ?? '').split(',').map((item) => item.trim()).filter(Boolean);

/** The doveadm endpoints, their key and the auth policy key, with what is wrong with them. */
function mailServerLinks(env: Env, problems: string[]): Pick<MailServerConfig, 'doveadmUrls' | 'doveadmApiKey' | 'authPolicyKey'> {
  if (env.DOVEADM_URL && env.DOVEADM_URLS) problems.push('set DOVEADM_URLS only (DOVEADM_URL is its older, one-server name)');
  const doveadmUrls = list(env.DOVEADM_URLS || env.DOVEADM_URL);
  const wrong = doveadmUrls.find((url) => !/^https?:\/\/[^/]/.test(url) || !URL.canParse(url));
  if (wrong !== undefined) problems.push(`DOVEADM_URLS: "${wrong}" is not an http(s) URL`);
  // An empty key used to mean every kick was "delivered" as a silent no-op.
  const key = env.DOVEADM_API_KEY;
  if (key !== undefined && key === '') problems.push('DOVEADM_API_KEY is set but empty: give the doveadm_api_key of the Dovecots, or unset it with DOVEADM_URLS');
  else if (doveadmUrls.length > 0 && key === undefined) problems.push('DOVEADM_URLS needs DOVEADM_API_KEY');
  else if (doveadmUrls.length === 0 && key !== undefined) problems.push('DOVEADM_API_KEY is set without DOVEADM_URLS');
  const policy = env.AUTH_POLICY_KEY;
  if (policy !== undefined && (policy.length < MIN_SECRET_LENGTH || new Set(policy).size < 10)) {
    problems.push(`AUTH_POLICY_KEY must be at least ${MIN_SECRET_LENGTH} characters, of at least 10 different ones (e.g. openssl rand -hex 32)`);
  }
  return { doveadmUrls, doveadmApiKey: key || undefined, authPolicyKey: policy || undefined };
}

/**
 * The providers whose three variables are set. One or two of them set is a mistake, as is an issuer
 * that is not https (plain http only on the same machine, for development and tests).
 */
function oidcProviders(env: Env, problems: string[]): OidcProviderConfig[] {
  return OIDC_PROVIDER_NAMES.flatMap((name) => {
    const prefix = `OIDC_${name.toUpperCase()}`;
    const [issuer, clientId, clientSecret] = ['ISSUER', 'CLIENT_ID', 'CLIENT_SECRET'].map((part) => env[`${prefix}_${part}`] || undefined);
    if (!issuer && !clientId && !clientSecret) return [];
    if (!issuer || !clientId || !clientSecret) {
      problems.push(`${prefix}_ISSUER, ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET go together: set all three or none`);
      return [];
    }
    const url = URL.canParse(issuer) ? new URL(issuer) : null;
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) || url.search || url.hash) {
      problems.push(`${prefix}_ISSUER must be the provider's https:// issuer URL, got "${issuer}"`);
      return [];
    }
    return [{ name, issuer, clientId, clientSecret }];
  });
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

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
  // A mistyped NODE_ENV ("prod") must not quietly run development: demo data, /dev/mail.
  if (env.NODE_ENV && !['production', 'development', 'test'].includes(env.NODE_ENV)) {
    throw new Error(`NODE_ENV must be production, development or test, got "${env.NODE_ENV}"`);
  }
  const nodeEnv = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  const port = int(env, 'PORT', 3000, { min: 1, max: 65_535 });
  const dataDir = path.resolve(ROOT, env.DATA_DIR ?? 'data');
  const baseUrl = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl) || !URL.canParse(baseUrl)) throw new Error(`BASE_URL must be an absolute http(s) URL, got "${baseUrl}"`);
  // Links are BASE_URL + a path: a query or fragment would swallow the token, credentials would be printed.
  const { username, password, search, hash } = new URL(baseUrl);
  if (username || password || search || hash || baseUrl.includes('?') || baseUrl.includes('#')) {
    throw new Error('BASE_URL must be scheme, host and optionally a path: no user, password, query or fragment');
  }
  const problems = nodeEnv === 'production' ? productionProblems(env, baseUrl) : [];
  // Length alone lets "aaaa…" through: a real secret draws on many characters.
  if (env.SESSION_SECRET && (env.SESSION_SECRET.length < MIN_SECRET_LENGTH || new Set(env.SESSION_SECRET).size < 10)) {
    problems.push(`SESSION_SECRET must be at least ${MIN_SECRET_LENGTH} characters, of at least 10 different ones (e.g. openssl rand -base64 32)`);
  }
  // Neither value is repeated: both may carry a password.
  if (env.SMTP_URL && !/^smtps?:\/\/[^/]/.test(env.SMTP_URL)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  else if (env.SMTP_URL && !URL.canParse(env.SMTP_URL)) problems.push('SMTP_URL is not a valid URL (a port in figures, special characters of the password percent-encoded: %40 for @)');
  if (env.DATABASE_URL && !/^(sqlite:.|(mysql|mariadb):\/\/[^/])/.test(env.DATABASE_URL)) {
    problems.push('DATABASE_URL must be sqlite:<file> or mysql://user:pass@host:port/db');
  }
  const host = new URL(baseUrl).hostname;
  const mailServer: MailServerConfig = {
    imap: mailService(env, 'IMAP', { host: `imap.${host}`, port: 993, security: 'ssl' }, problems),
    pop3: mailService(env, 'POP3', { host: env.IMAP_HOST || `imap.${host}`, port: 995, security: 'ssl' }, problems),
    submission: mailService(env, 'SUBMISSION', { host: `smtp.${host}`, port: 465, security: 'ssl' }, problems),
    domains: list(env.MAIL_DOMAINS).map((domain) => domain.toLowerCase()),
    ...mailServerLinks(env, problems),
  };
  const badDomain = mailServer.domains.find((domain) => !DOMAIN.test(domain));
  if (badDomain !== undefined) problems.push(`MAIL_DOMAINS: "${badDomain}" is not a domain name`);
  const metricsToken = env.METRICS_TOKEN;
  if (metricsToken !== undefined && (metricsToken.length < MIN_SECRET_LENGTH || new Set(metricsToken).size < 10)) {
    problems.push(`METRICS_TOKEN must be at least ${MIN_SECRET_LENGTH} characters, of at least 10 different ones (e.g. openssl rand -hex 32), or unset (no /metrics)`);
  }
  const logLevel = env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const oidc: OidcConfig = { providers: oidcProviders(env, problems), mfaAcrValues: list(env.OIDC_MFA_ACR) };
  if (problems.length) throw new Error(problems.join('; '));
  return {
    env: nodeEnv,
    port,
    baseUrl,
    linksUrl: `${baseUrl}/password`,
    ownerPagesUrl: `${baseUrl}/settings/collaborations`,
    databaseUrl: env.DATABASE_URL || `sqlite:${path.join(dataDir, 'app.sqlite')}`,
    dataDir,
    demoData: nodeEnv === 'development' && !env.DATABASE_URL && !env.DATA_DIR && !env.SMTP_URL,
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
      signInPerAccount: int(env, 'SIGN_IN_LIMIT_PER_ACCOUNT', 10, { min: 1 }),
      signInPerIp: int(env, 'SIGN_IN_LIMIT_PER_IP', 100, { min: 1 }),
      signInPerDevice: int(env, 'SIGN_IN_LIMIT_PER_DEVICE', 10, { min: 1 }),
      forgotLinksPerAccount: int(env, 'FORGOT_LIMIT_PER_USERNAME', 3, { min: 1 }),
      forgotPerIp: int(env, 'FORGOT_LIMIT_PER_IP', 20, { min: 1 }),
      passwordChangePerAccount: int(env, 'PASSWORD_CHANGE_LIMIT', 5, { min: 1 }),
    },
    mailLimits: {
      windowSeconds: int(env, 'MAIL_LIMIT_WINDOW_HOURS', 24, { min: 1 }) * 3600,
      perRecipient: int(env, 'MAIL_LIMIT_PER_RECIPIENT', 5, { min: 1 }),
      perMailbox: int(env, 'MAIL_LIMIT_PER_MAILBOX', 100, { min: 1 }),
    },
    inProcessWorker: env.WORKER !== 'off',
    outboxLeaseSeconds: int(env, 'OUTBOX_LEASE_SECONDS', 60),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000),
    listCacheEntries: int(env, 'LIST_CACHE_ENTRIES', 100, { min: 0 }),
    accessReminderDays: int(env, 'ACCESS_REMINDER_DAYS', 3, { min: 1, max: 60 }),
    mailServer,
    logLevel,
    metricsToken: metricsToken || undefined,
    trustProxy: trustProxy(env.TRUST_PROXY),
    oidc,
  };
}
