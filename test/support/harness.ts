import fs from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { loadConfig, type Config } from '../../src/config';
import { openDatabase, type Database } from '../../src/db';
import { createDomain, type Domain } from '../../src/domain';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/lib/logger';
import { outboxDeliverer, fileTransport, smtpTransport, type MailTransport } from '../../src/mail/transport';
import type { Deliver } from '../../src/mail/outbox';
import type { Mailbox } from '../../src/models';
import { TestClock } from './clock';
import { DATABASES, type TestDatabase } from './databases';

export const BASE_URL = 'http://webmail.pec.test';
export const OWNER_PASSWORD = 'owner password for the tests';
export const GOOD_PASSWORD = 'a long and quiet river of words';
/** At least 32 characters, as the configuration demands of any SESSION_SECRET. */
export const SESSION_SECRET = 'test session secret, long enough for the rule';

export interface Harness {
  config: Config;
  db: Database;
  domain: Domain;
  clock: TestClock;
  app: ReturnType<typeof createApp>['app'];
  deliver: Deliver;
  /** Runs the outbox worker once, mail-server commands first; returns how many were sent. */
  drain(): Promise<number>;
  mailbox(address: string): Promise<Mailbox>;
  /** Empties everything but the mailboxes, so each test starts from the same state. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Generous limits, for suites whose tests must each meet only the one limit they are about. */
export const WIDE_LIMITS = {
  SIGN_IN_LIMIT_PER_ACCOUNT: '100000',
  SIGN_IN_LIMIT_PER_IP: '100000',
  SIGN_IN_LIMIT_PER_DEVICE: '100000',
  FORGOT_LIMIT_PER_USERNAME: '100000',
  FORGOT_LIMIT_PER_IP: '100000',
  PASSWORD_CHANGE_LIMIT: '100000',
  MAIL_LIMIT_PER_RECIPIENT: '100000',
  MAIL_LIMIT_PER_MAILBOX: '100000',
};

/** `clock`: the domain's clock; by default a TestClock that moves only when the test moves it. */
export async function startHarness(databaseUrl: string, env: Record<string, string> = {}, { clock = new TestClock() }: { clock?: TestClock } = {}): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    BASE_URL,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET,
    BCRYPT_COST: '4',
    DATA_DIR: dataDir,
    // Suites resend and reset dozens of times; the sending limits are tested where they are set.
    MAIL_LIMIT_PER_RECIPIENT: WIDE_LIMITS.MAIL_LIMIT_PER_RECIPIENT,
    MAIL_LIMIT_PER_MAILBOX: WIDE_LIMITS.MAIL_LIMIT_PER_MAILBOX,
    ...env,
  });
  const db = await openDatabase(databaseUrl);
  const domain = createDomain(db, config, clock, { leaseMs: 60_000, maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000, batchSize: 50, concurrency: 5 });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const { app, close } = createApp({ domain, logger, devMailFolder: path.join(dataDir, 'mail') });
  const transport: MailTransport = config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom, config.smtpTimeoutMs) : fileTransport(path.join(dataDir, 'mail'), config.mailFrom);
  const deliver = outboxDeliverer(config, transport);
  return {
    config,
    db,
    domain,
    clock,
    app,
    deliver,
    drain: async () => (await domain.outbox.runCommands(deliver)) + (await domain.outbox.runOnce(deliver)),
    mailbox: (address) => domain.accounts.createMailbox(address, OWNER_PASSWORD),
    async reset() {
      const { models } = db;
      for (const model of [models.Link, models.OutboxMessage, models.AuditEvent, models.AccessEvent, models.Session, models.Collaborator, models.SecondFactor, models.RecoveryCode, models.NoticeSetting, models.OwnerNotice, models.MailDevice, models.LinkedIdentity]) {
        await (model as typeof models.Link).destroy({ where: {} });
      }
      await models.Mailbox.update({ twoStepRequired: false, locale: 'it' }, { where: {} });
      // A new version, not version 0: a list the app rendered before the reset must not come back.
      await db.sequelize.query('UPDATE collaborator_lists SET version = version + 1, collaborators = 0');
      await db.sequelize.query('DELETE FROM rate_limits');
    },
    async close() {
      close();
      transport.close();
      await domain.background.settled();
      await domain.rateLimits.close();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A browser-like client: keeps cookies, reads the CSRF token from the last page. */
export class Browser {
  readonly agent: TestAgent;
  csrf = '';

  constructor(app: Harness['app']) {
    this.agent = request.agent(app);
  }

  private remember(res: request.Response): request.Response {
    const match = /name="_csrf" value="([^"]+)"/.exec(res.text ?? '');
    if (match) this.csrf = match[1] as string;
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<request.Response> {
    return this.remember(await this.agent.get(url).set(headers));
  }

  async post(url: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<request.Response> {
    return this.remember(await this.agent.post(url).type('form').set(headers).send({ _csrf: this.csrf, ...form }));
  }

  /** An htmx request: the token travels as a header. */
  async htmx(method: 'post' | 'delete' | 'get', url: string): Promise<request.Response> {
    return this.agent[method](url).set({ 'HX-Request': 'true', 'HX-Request-Type': 'partial', 'X-CSRF-Token': this.csrf });
  }

  async signIn(username: string, password: string): Promise<request.Response> {
    await this.get('/login');
    return this.post('/login', { username, password });
  }
}

export function newCollaborator(overrides: Record<string, string> = {}): Record<string, string> {
  return { firstName: 'Mario', lastName: 'Rossi', username: 'mario.rossi', referenceEmail: 'mario@example.com', accessLevel: 'mail_clients', ...overrides };
}

/** The owner of `mailbox`, signed in, on the Collaborations page (so its CSRF token is known). */
export async function signedInOwner(app: Harness['app'], mailbox: string): Promise<Browser> {
  const owner = new Browser(app);
  const res = await owner.signIn(mailbox, OWNER_PASSWORD);
  if (res.status !== 303) throw new Error(`the owner of ${mailbox} could not sign in: ${res.status}`);
  await owner.get('/settings/collaborations');
  return owner;
}

/**
 * Gives the surrounding `describe` a harness on a fresh database of its own, with these mailboxes;
 * `use` receives them before the suite's own hooks run. Both are closed and dropped after the suite.
 */
export function harnessPerSuite(
  create: () => Promise<TestDatabase>,
  { env = {}, mailboxes = [] }: { env?: Record<string, string>; mailboxes?: string[] },
  use: (h: Harness, database: TestDatabase) => void,
): void {
  let database: TestDatabase | undefined;
  let h: Harness | undefined;
  before(async function () {
    database = await create();
    h = await startHarness(database.url, env);
    for (const address of mailboxes) await h.mailbox(address);
    use(h, database);
  });
  after(async function () {
    await h?.close();
    await database?.drop();
  });
}

/**
 * For a browser suite: a harness on SQLite (a real browser is slow to start: one database is enough)
 * whose app listens on a port of 127.0.0.1 from the suite's start to its end; `use` gets the harness
 * and the app's base URL. `env` is read when the suite starts, so it may name what an earlier
 * `before` started (an SMTP sink).
 */
export function servedPerSuite(env: () => Record<string, string>, use: (h: Harness, base: string) => void): void {
  let database: TestDatabase | undefined;
  let h: Harness | undefined;
  let server: Server | undefined;
  before(async function () {
    database = await (DATABASES.find((d) => d.name === 'SQLite') as (typeof DATABASES)[number]).create();
    h = await startHarness(database.url, env());
    server = h.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    use(h, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async function () {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
    await database?.drop();
  });
}

/**
 * harnessPerSuite, then before each test an emptied database and the owner of the first mailbox
 * signed in, on the Collaborations page. `use` receives the harness as harnessPerSuite's does;
 * `signedIn` the owner's browser before each test, before the suite's own hooks run.
 */
export function harnessWithOwner(
  create: () => Promise<TestDatabase>,
  { env = {}, mailboxes }: { env?: Record<string, string>; mailboxes: [string, ...string[]] },
  use: (h: Harness, database: TestDatabase) => void,
  signedIn: (owner: Browser) => void,
): void {
  let h: Harness | undefined;
  harnessPerSuite(create, { env, mailboxes }, (harness, database) => {
    h = harness;
    use(harness, database);
  });
  beforeEach(async function () {
    if (!h) throw new Error('the suite has no harness');
    await h.reset();
    signedIn(await signedInOwner(h.app, mailboxes[0]));
  });
}
