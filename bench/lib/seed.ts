import type { Transaction } from 'sequelize';
import type { Database } from '../../src/db';
import { Links } from '../../src/domain/links';
import { systemClock } from '../../src/lib/clock';
import { searchRows } from '../../src/lib/search-words';
import type { Config } from '../../src/config';

export const DOMAIN = 'pec.bench.test';
export const OWNER_PASSWORD = 'bench owner passphrase 2026';
/** A whole word of some names, and the start of one. */
export const SEARCH = 'rossi';
export const SEARCH_PREFIX = 'giord';

const LAST_NAMES = ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco', 'Bruno', 'Gallo', 'Conti', 'De Luca', 'Mancini', 'Costa', 'Giordano', 'Rizzo', 'Lombardi', 'Moretti'];
const FIRST_NAMES = ['Mario', 'Giulia', 'Luca', 'Francesca', 'Marco', 'Chiara', 'Andrea', 'Sara', 'Matteo', 'Elena', 'Paolo', 'Anna'];
const LEVELS = ['read', 'write', 'send', 'mail_clients'];
/** 60% active, 20% pending, 10% suspended, 10% deactivated. */
const STATUS_BY_DIGIT = ['active', 'active', 'active', 'active', 'active', 'active', 'pending', 'pending', 'suspended', 'deactivated'];

export interface Seeded {
  /** Owner address of the mailbox with that many collaborators. */
  owners: Map<number, string>;
  /** The mailbox used for owner actions (the largest): ids by status. */
  actionIds: { active: number[]; pendingOrSuspended: number[] };
  /** Raw link tokens, one per pending collaborator of the links mailbox. */
  linkTokens: string[];
  collaborators: number;
  seconds: number;
}

async function insertChunks(db: Database, table: string, rows: Record<string, unknown>[], t: Transaction): Promise<void> {
  const q = db.sequelize.getQueryInterface();
  for (let i = 0; i < rows.length; i += 1000) await q.bulkInsert(table, rows.slice(i, i + 1000), { transaction: t });
}

const KEY_COLUMNS = ['prefix', 'last_name', 'first_name', 'collaborator_id', 'word'];

/**
 * Search key rows of one mailbox in their primary key's order (migrations/015-search-keys.ts), so
 * they are appended to its B-tree rather than spread over it. Names are compared by code unit: the
 * seeded ones are ASCII, capitalised alike, where that order and the names' collation agree.
 */
function byKey(a: Record<string, string | number>, b: Record<string, string | number>): number {
  for (const column of KEY_COLUMNS) {
    const x = a[column] as string | number;
    const y = b[column] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

async function addMailbox(db: Database, address: string, passwordHash: string, t: Transaction): Promise<number> {
  const now = new Date();
  await db.sequelize.getQueryInterface().bulkInsert(
    'mailboxes',
    [{ address, display_name: null, password_hash: passwordHash, credential_version: 1, locale: 'it', created_at: now, updated_at: now }],
    { transaction: t },
  );
  const mailbox = await db.models.Mailbox.findOne({ where: { address }, transaction: t });
  if (!mailbox) throw new Error(`mailbox ${address} not inserted`);
  return mailbox.id;
}

/** Collaborators of one mailbox, each with one delivered invitation in the outbox (the list shows the last email). */
async function addCollaborators(db: Database, mailboxId: number, address: string, count: number, hash: string, t: Transaction, status?: string): Promise<void> {
  const now = new Date();
  const people: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const state = status ?? STATUS_BY_DIGIT[i % 10] ?? 'active';
    people.push({
      mailbox_id: mailboxId,
      first_name: FIRST_NAMES[i % FIRST_NAMES.length],
      last_name: `${LAST_NAMES[Math.floor(i / 7) % LAST_NAMES.length]} ${i}`,
      username: `user${i}/${address}`,
      reference_email: `user${i}.${mailboxId}@example.org`,
      access_level: LEVELS[i % LEVELS.length],
      manage_settings: i % 5 === 0,
      status: state,
      password_hash: state === 'active' ? hash : null,
      credential_version: 1,
      locale: 'it',
      deactivated_at: state === 'deactivated' ? now : null,
      created_at: now,
      updated_at: now,
    });
  }
  await insertChunks(db, 'collaborators', people, t);
  const ids = await db.models.Collaborator.findAll({ attributes: ['id', 'firstName', 'lastName', 'username', 'referenceEmail'], where: { mailboxId }, transaction: t, raw: true });
  await insertChunks(db, 'collaborator_search_keys', ids.flatMap((c) => searchRows({ ...c, mailboxId })).sort(byKey), t);
  // Sent a month ago: a mailbox's history, outside the sending limits' 24-hour window (as in real use,
  // where the limits keep a day's emails to a hundred or so).
  const sentAt = new Date(now.getTime() - 30 * 86_400_000);
  const emails = ids.map((c) => ({
    kind: 'email',
    mailbox_id: mailboxId,
    collaborator_id: c.id,
    template: 'invitation',
    recipient: c.referenceEmail,
    locale: 'it',
    payload: '{}',
    secret: null,
    status: 'sent',
    attempts: 1,
    next_attempt_at: sentAt,
    lease_owner: null,
    lease_until: null,
    last_error: null,
    message_id: `<seed-${c.id}@${DOMAIN}>`,
    sent_at: sentAt,
    created_at: sentAt,
    updated_at: sentAt,
  }));
  await insertChunks(db, 'outbox_messages', emails, t);
}

/**
 * Bulk data, straight into the tables the migrations built: one mailbox per size, `others` mailboxes
 * beside them (5 collaborators each), and a mailbox of pending collaborators whose links the
 * set-password load redeems. One precomputed bcrypt hash serves every active row.
 */
export async function seed(db: Database, config: Config, opts: { sizes: number[]; others: number; links: number; hash: string }): Promise<Seeded> {
  const started = Date.now();
  const owners = new Map<number, string>();
  let largest = 0;
  let total = 0;
  await db.sequelize.transaction(async (t) => {
    for (let m = 0; m < opts.others; m++) {
      const address = `other-${m}@${DOMAIN}`;
      await addCollaborators(db, await addMailbox(db, address, opts.hash, t), address, 5, opts.hash, t);
      total += 5;
    }
    for (const size of opts.sizes) {
      const address = `owner-${size}@${DOMAIN}`;
      const id = await addMailbox(db, address, opts.hash, t);
      await addCollaborators(db, id, address, size, opts.hash, t);
      owners.set(size, address);
      largest = id;
      total += size;
    }
    const address = `links@${DOMAIN}`;
    await addCollaborators(db, await addMailbox(db, address, opts.hash, t), address, opts.links, opts.hash, t, 'pending');
    total += opts.links;
  });

  const inLargest = await db.models.Collaborator.findAll({ attributes: ['id', 'status'], where: { mailboxId: largest }, order: [['id', 'ASC']], raw: true });
  const actionIds = {
    active: inLargest.filter((c) => c.status === 'active').map((c) => c.id),
    pendingOrSuspended: inLargest.filter((c) => c.status === 'pending' || c.status === 'suspended').map((c) => c.id),
  };

  // Links issued through the domain, as an owner's invitation would: the raw token is what the email carries.
  const links = new Links(db, systemClock, config.linkTtl);
  const linkMailbox = await db.models.Mailbox.findOne({ where: { address: `links@${DOMAIN}` } });
  const pending = await db.models.Collaborator.findAll({ where: { mailboxId: linkMailbox?.id ?? -1 }, order: [['id', 'ASC']] });
  const linkTokens = await db.transaction(async (t) => {
    const tokens: string[] = [];
    for (const collaborator of pending) tokens.push((await links.issue(collaborator, 'invitation', t)).token);
    return tokens;
  });
  return { owners, actionIds, linkTokens, collaborators: total, seconds: (Date.now() - started) / 1000 };
}

/**
 * More collaborators in the database, in mailboxes of `each` (`bulk-<n>@…`), one transaction per
 * mailbox: the database grows around the mailboxes being measured. `from` numbers the first (0), for a
 * database grown before. Returns the seconds it took.
 */
export async function seedBulk(db: Database, opts: { collaborators: number; each: number; hash: string; from?: number }): Promise<number> {
  const started = Date.now();
  for (let m = 0; m * opts.each < opts.collaborators; m++) {
    const address = `bulk-${m + (opts.from ?? 0)}@${DOMAIN}`;
    const count = Math.min(opts.each, opts.collaborators - m * opts.each);
    await db.sequelize.transaction(async (t) => addCollaborators(db, await addMailbox(db, address, opts.hash, t), address, count, opts.hash, t));
  }
  return (Date.now() - started) / 1000;
}
