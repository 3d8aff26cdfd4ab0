import { QueryTypes } from 'sequelize';
import type { Database } from '../db';
import type { AccessLevel, AppPassword, AuditEvent, Collaborator, DeliveryStatus, Link, LinkState, Mailbox, OutboxMessage, Status } from '../models';
import { queryWords, searchKey } from '../lib/search-words';
import type { Outbox } from '../mail/outbox';
import type { Clock } from '../lib/clock';
import type { Audit } from './audit';
import type { Links } from './links';
import type { AppPasswords } from './app-passwords';
import { NotFound } from './errors';
import { PlainReader } from '../db/records';
import { instantOf, namedParameters, select } from '../db/statements';
import { listState, takeListState, type ListState } from '../db/list-versions';
import type { TwoStep } from './two-step';
import { Recent } from '../lib/recent';

export const PAGE_SIZE = 50;
/** Counts kept by Directory#keptCount (a number and a short key each), the least recently used dropped past this. */
const COUNTS_KEPT = 1_000;

/** The orders the list offers; `name` (last, first) is the default and the only one paged by keyset. */
export const LIST_SORTS = ['name', 'username', 'status', 'lastAccess'] as const;
export type ListSort = (typeof LIST_SORTS)[number];
export type SortDirection = 'asc' | 'desc';
/** The statuses in the order the status sort follows: the account's life, first to last. */
export const LIST_STATUSES = ['pending', 'active', 'suspended', 'deactivated'] as const satisfies readonly Status[];

/** What the owner asked the list for: search words, a status, an order. */
export interface ListQuery {
  query?: string;
  /** Only the collaborators in this status; null or absent: all. */
  status?: Status | null;
  sort?: ListSort;
  direction?: SortDirection;
}

/** One row of the list: the account as the owner sees it, with the facts beside it. */
export interface ListRow {
  id: number;
  firstName: string;
  lastName: string;
  username: string;
  referenceEmail: string;
  accessLevel: AccessLevel;
  manageSettings: boolean;
  status: Status;
  /** The last email sent to the reference address, if any. */
  lastEmail: { status: DeliveryStatus; template: string; at: Date } | null;
  /**
   * The link a pending or suspended account waits on (its latest one neither used nor revoked), and
   * whether it had expired at the domain clock's now; null for the other statuses.
   */
  link: { expiresAt: Date; expired: boolean } | null;
  /** The collaborator's latest successful sign-in, to the web or from a mail program. */
  lastAccess: Date | null;
  twoStep: boolean;
  /** How many app passwords it has. */
  appPasswords: number;
  /** When its access ends by itself; null: no end. */
  accessEndsAt: Date | null;
}

/** Where a page starts: a page number (OFFSET), or next to a row the owner has seen (keyset). */
export interface PagePosition {
  page?: number;
  /** The id of the last row of the previous page: this page follows it. */
  after?: number;
  /** The id of the first row of the next page: this page precedes it. */
  before?: number;
}

export interface CollaboratorPage {
  rows: ListRow[];
  total: number;
  page: number;
  pages: number;
  query: string;
  status: Status | null;
  sort: ListSort;
  direction: SortDirection;
  /** Whether its pages are read next to a row (`after`/`before`): the name order only. */
  keyset: boolean;
  /** The next moment a row of this page changes by the clock alone (a shown link expiring); null: never. */
  changesAt: Date | null;
}

export interface CollaboratorDetails {
  /** The latest links, newest first, each with its state at the domain clock's now. */
  links: Array<{ link: Link; state: LinkState }>;
  emails: OutboxMessage[];
  activity: AuditEvent[];
  /** The Dovecots (host:port) where mail programs may still be connected: a kick failed there and is still being retried. */
  pendingKicks: string[];
  /** Whether two-step verification is on. */
  twoStep: boolean;
  /** The collaborator's app passwords: names, scopes and last uses, never the hashes. */
  appPasswords: AppPassword[];
}

/** A row's facts as ROW_COLUMNS gives them, by ROW_FACTS's names. */
interface RowRecord {
  id: number;
  first_name: string;
  last_name: string;
  username: string;
  reference_email: string;
  access_level: AccessLevel;
  manage_settings: number | boolean;
  status: Status;
  email_status: DeliveryStatus | null;
  email_template: string | null;
  email_at: string | null;
  two_step: number | boolean;
  app_passwords: number;
  link_expires_at: string | null;
  last_access: string | null;
  access_ends_at: string | null;
}

/** The latest successful sign-in of `c`: one probe of access_collaborator_outcome_time. */
const LAST_ACCESS = "(SELECT MAX(s.created_at) FROM access_events s WHERE s.collaborator_id = c.id AND s.outcome = 'success')";
/** The facts of each row, by correlated lookups on indexed columns (50 rows, 250 index probes): each one's SQL. */
const ROW_FACTS: Record<keyof RowRecord, string> = {
  id: 'c.id',
  first_name: 'c.first_name',
  last_name: 'c.last_name',
  username: 'c.username',
  reference_email: 'c.reference_email',
  access_level: 'c.access_level',
  manage_settings: 'c.manage_settings',
  status: 'c.status',
  access_ends_at: 'c.access_ends_at',
  email_status: 'e.status',
  email_template: 'e.template',
  email_at: 'COALESCE(e.sent_at, e.created_at)',
  two_step: "EXISTS (SELECT 1 FROM second_factors f WHERE f.principal_type = 'collaborator' AND f.principal_id = c.id)",
  app_passwords: '(SELECT COUNT(*) FROM app_passwords a WHERE a.collaborator_id = c.id)',
  link_expires_at: "CASE WHEN c.status IN ('pending', 'suspended') THEN (SELECT l.expires_at FROM links l WHERE l.collaborator_id = c.id AND l.used_at IS NULL AND l.revoked_at IS NULL ORDER BY l.id DESC LIMIT 1) END",
  last_access: LAST_ACCESS,
};
const ROW_NAMES = Object.keys(ROW_FACTS) as Array<keyof RowRecord>;

/**
 * ROW_FACTS as one JSON array a row (`row_facts`, read by recordOf), on both databases: a driver
 * builds each value of a row on the main thread, and one value a row and one JSON.parse cost a
 * fraction of the 800 values of a page. SQLite's driver took about 0.5 µs a value; mysql2 reads
 * each column's definition with every result and passes each value through Sequelize's typeCast
 * (its row parsing, column definitions and typeCast were 12.6% of the main thread's samples under
 * `perf` on a page with every row rendered, 16 columns a row). In the JSON an instant is text
 * (SQLite's as written, MariaDB's in UTC without a zone: instantOf reads both) and a truth 0, 1,
 * true or false.
 */
const ROW_COLUMNS = `json_array(${ROW_NAMES.map((name) => ROW_FACTS[name]).join(', ')}) AS row_facts`;

/** A row as ROW_COLUMNS read it, as one record: JSON text (SQLite), or already parsed (mysql2 parses a JSON column). */
function recordOf(read: { row_facts: string | unknown[] }): RowRecord {
  const values = typeof read.row_facts === 'string' ? (JSON.parse(read.row_facts) as unknown[]) : read.row_facts;
  const record: Record<string, unknown> = {};
  ROW_NAMES.forEach((name, i) => (record[name] = values[i]));
  return record as unknown as RowRecord;
}
/** What ROW_FACTS and the orders read of a page's collaborators (not `c.*`: a page carries no more than it shows). */
const PAGE_COLUMNS = 'c.id, c.first_name, c.last_name, c.username, c.reference_email, c.access_level, c.manage_settings, c.status, c.access_ends_at';
/** Each collaborator's last email, by its id. */
const LAST_EMAIL_ID = "(SELECT MAX(o.id) FROM outbox_messages o WHERE o.collaborator_id = c.id AND o.kind = 'email') AS last_email_id";
/**
 * The collaborators `c` of one page, as `page` gives them (a FROM, and its WHERE if any, naming
 * PAGE_COLUMNS as `c`), each with its last email `e`: the email's id is read once a row in a derived
 * table, then joined. Looked up in the join's ON (`e.id = (SELECT MAX(o.id) …)`), MariaDB read it
 * three times a row (ANALYZE FORMAT=JSON: 150 loops for 50 rows). The LIMIT (a page holds no more)
 * keeps MariaDB from merging the derived table into the query, which put the lookup back in the ON.
 */
function withLastEmail(page: string): string {
  return `(SELECT ${PAGE_COLUMNS}, ${LAST_EMAIL_ID} FROM ${page} LIMIT ${PAGE_SIZE}) c LEFT JOIN outbox_messages e ON e.id = c.last_email_id`;
}
const NAME_ORDER = 'c.last_name, c.first_name, c.id';
/** One row of the list alone (Directory#row), by the collaborator's id. */
const ROW_SQL = `SELECT ${ROW_COLUMNS} FROM ${withLastEmail('collaborators c WHERE c.id = $1')}`;

/** The columns of the name order: a collaborator's (`c`), or a search key's (`s`, the same names in the same order). */
interface NameColumns {
  last: string;
  first: string;
  id: string;
}
const OF_COLLABORATOR: NameColumns = { last: 'c.last_name', first: 'c.first_name', id: 'c.id' };
const OF_KEY: NameColumns = { last: 's.last_name', first: 's.first_name', id: 's.collaborator_id' };
/** A search's conditions on the keys `s` (Directory.searching), and whether they read one key, in name order. */
interface Search {
  oneKey: boolean;
  conditions: string[];
}
/** A search key's rows of one collaborator, next to each other in the key's name order. */
const KEY_GROUP = 's.last_name, s.first_name, s.collaborator_id';

function nameOrder({ last, first, id }: NameColumns, dir: 'ASC' | 'DESC'): string {
  return `${last} ${dir}, ${first} ${dir}, ${id} ${dir}`;
}

/** The rows past the cursor's (`:cursorLast`, `:cursorFirst`, `:cursorId`) in name order: `>` after it, `<` before it. */
function pastCursor({ last, first, id }: NameColumns, sign: '>' | '<'): string {
  return `${last} ${sign}= :cursorLast AND (${last} ${sign} :cursorLast OR ${first} ${sign} :cursorFirst OR (${first} = :cursorFirst AND ${id} ${sign} :cursorId))`;
}
const STATUS_RANK = `CASE c.status ${LIST_STATUSES.map((status, i) => `WHEN '${status}' THEN ${i}`).join(' ')} END`;

/** A total order of the rows (ties by name, then id), forwards or backwards. */
function orderOf(sort: ListSort, direction: SortDirection): string {
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  switch (sort) {
    case 'name':
      return nameOrder(OF_COLLABORATOR, dir);
    case 'username':
      return `c.username ${dir}, c.id ${dir}`;
    case 'status':
      return `${STATUS_RANK} ${dir}, ${NAME_ORDER}`;
    case 'lastAccess':
      // Never signed in: last, whichever the direction.
      return `CASE WHEN ${LAST_ACCESS} IS NULL THEN 1 ELSE 0 END, ${LAST_ACCESS} ${dir}, ${NAME_ORDER}`;
  }
}

function rowOf(r: RowRecord, now: Date): ListRow {
  const linkExpiresAt = instantOf(r.link_expires_at);
  return {
    id: Number(r.id),
    firstName: r.first_name,
    lastName: r.last_name,
    username: r.username,
    referenceEmail: r.reference_email,
    accessLevel: r.access_level,
    manageSettings: Boolean(r.manage_settings),
    status: r.status,
    lastEmail: r.email_status && r.email_template && r.email_at ? { status: r.email_status, template: r.email_template, at: instantOf(r.email_at) as Date } : null,
    twoStep: Boolean(Number(r.two_step)),
    appPasswords: Number(r.app_passwords),
    link: linkExpiresAt ? { expiresAt: linkExpiresAt, expired: linkExpiresAt.getTime() <= now.getTime() } : null,
    lastAccess: instantOf(r.last_access),
    accessEndsAt: instantOf(r.access_ends_at),
  };
}

/** The first moment after which one of these rows reads differently by the clock alone: a live link expiring. */
function nextChange(rows: ListRow[]): Date | null {
  const moments = rows.flatMap((row) => (row.link && !row.link.expired ? [row.link.expiresAt.getTime()] : []));
  return moments.length > 0 ? new Date(Math.min(...moments)) : null;
}

/** The owner's read side: the list, one collaborator, its details. Changes nothing. */
export class Directory {
  /** find's read: the collaborator's every attribute, by one plain statement (what findOne read). */
  private readonly collaborators: PlainReader<Collaborator>;
  private readonly findSql: string;
  /** Counts of searches and status filters by keptCount's key. */
  private readonly counts = new Recent<number>(COUNTS_KEPT);

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly links: Links,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
    private readonly twoStep: TwoStep,
    private readonly appPasswords: AppPasswords,
  ) {
    this.collaborators = new PlainReader(db.models.Collaborator, db.sequelize, 'c');
    this.findSql = `SELECT ${this.collaborators.columns} FROM collaborators c WHERE c.id = $1 AND c.mailbox_id = $2`;
  }

  /**
   * The list's version and count, and the rule the rows show (src/db/list-versions.ts): as the
   * request's session statement read them with the owner's record, when nothing changed a list here
   * since (takeListState), else one statement now.
   */
  async listState(mailbox: Mailbox): Promise<ListState> {
    return takeListState(mailbox) ?? listState(this.db.sequelize, mailbox.id);
  }

  /**
   * One page of the mailbox's collaborators (PAGE_SIZE a page), by last then first name, id, or by
   * `sort` (ties by name) in `direction`. `query` keeps the rows having, for each typed word, a word
   * starting with it (src/lib/search-words.ts); `status` the rows in that status. In the name order
   * (A to Z), a page given by `after`/`before` (a row of this mailbox) is read from there on the name
   * index (keyset): as cheap deep in the list as on page 1; `page` then only numbers it. A search in
   * name order whose longest word is one search key (migrations/015-search-keys.ts) is read the same
   * way on that key: one page of the key's rows, however many match; a shorter word's matches are
   * sorted. The other orders are read by page number (OFFSET), a search's
   * matches sorted: they are asked for now and then, not paged deep. A search's or a status's count is
   * kept for the list's version (keptCount).
   */
  async list(mailbox: Mailbox, { query = '', status = null, sort = 'name', direction = 'asc', ...position }: ListQuery & PagePosition = {}, state?: ListState): Promise<CollaboratorPage> {
    const q = query.trim().slice(0, 100);
    const keyset = sort === 'name' && direction === 'asc';
    const shape = { query: q, status, sort, direction, keyset, changesAt: null };
    // Every username ends with the mailbox: typed whole, only the chosen part says whom.
    const words = queryWords(q.split(`/${mailbox.address}`).join(' '));
    const replacements: Record<string, unknown> = { mailbox: mailbox.id, status };
    const search = words.length > 0 ? this.searching(words, replacements) : null;
    const filter = ['c.mailbox_id = :mailbox', ...(status ? ['c.status = :status'] : [])];
    // A query that normalises to no word (only punctuation) finds nobody rather than everybody.
    let total = 0;
    if (!q || search) {
      const { version, collaborators } = state ?? (await this.listState(mailbox));
      const counting = search ? () => this.countFound(search, status, replacements) : status ? () => this.count(filter, replacements) : null;
      total = counting ? await this.keptCount([mailbox.id, version, status, ...words].join('\n'), counting) : collaborators;
    }
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(position.page ?? 1) || 1), pages);
    if (total === 0) return { rows: [], total, page: 1, pages, ...shape };

    const forwards = orderOf(sort, direction);
    const cursor = keyset ? await this.cursor(mailbox, position) : null;
    // A search in name order on one key is read on it, in that order; otherwise its matches are sorted.
    const byKey = search !== null && search.oneKey && sort === 'name';
    const names = byKey ? OF_KEY : OF_COLLABORATOR;
    const base = byKey ? [...search.conditions, ...(status ? ['c.status = :status'] : [])] : filter;
    const dir = direction === 'desc' ? 'DESC' : 'ASC';
    let where = base;
    let backwards = false;
    let offset = (current - 1) * PAGE_SIZE;
    if (cursor) {
      where = [...base, pastCursor(names, cursor.direction === 'after' ? '>' : '<')];
      Object.assign(replacements, { cursorLast: cursor.lastName, cursorFirst: cursor.firstName, cursorId: cursor.id });
      backwards = cursor.direction === 'before';
      offset = 0;
    }
    const from = search && !byKey ? this.fromMatches(this.matching(search.conditions)) : 'collaborators c';
    const read = (conditions: string[], back: boolean, skip: number) => {
      const by = sort === 'name' ? nameOrder(names, back ? 'DESC' : dir) : forwards;
      const page = byKey
        ? `(SELECT s.collaborator_id AS id FROM ${this.keysFrom(status)} WHERE ${conditions.join(' AND ')} GROUP BY ${KEY_GROUP} ORDER BY ${by} LIMIT ${PAGE_SIZE} OFFSET :offset) m ${this.straightJoin} collaborators c ON c.id = m.id`
        : `(SELECT ${PAGE_COLUMNS} FROM ${from} WHERE ${conditions.join(' AND ')} ORDER BY ${by} LIMIT ${PAGE_SIZE} OFFSET :offset) c`;
      return this.selected<{ row_facts: string | unknown[] }>(`SELECT ${ROW_COLUMNS} FROM ${withLastEmail(page)} ORDER BY ${forwards}`, { ...replacements, offset: skip });
    };
    let records = await read(where, backwards, offset);
    // Nothing left past the row (the rows after it were removed meanwhile): the page by its number.
    if (records.length === 0 && cursor) records = await read(base, false, (current - 1) * PAGE_SIZE);
    const now = this.clock.now();
    const rows = records.map((record) => rowOf(recordOf(record), now));
    return { rows, total, page: current, pages, ...shape, changesAt: nextChange(rows) };
  }

  /** The page (PAGE_SIZE a page) of the name order (A to Z, no search nor filter) that shows `collaborator`. */
  async pageOf(collaborator: Collaborator): Promise<number> {
    const [row] = await this.db.sequelize.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM collaborators c WHERE c.mailbox_id = :mailbox
        AND (c.last_name < :last OR (c.last_name = :last AND (c.first_name < :first OR (c.first_name = :first AND c.id < :id))))`,
      { replacements: { mailbox: collaborator.mailboxId, last: collaborator.lastName, first: collaborator.firstName, id: collaborator.id }, type: QueryTypes.SELECT },
    );
    return Math.floor(Number(row?.n ?? 0) / PAGE_SIZE) + 1;
  }

  /**
   * The conditions on search keys `s` (migrations/015-search-keys.ts) of the mailbox's collaborators
   * having, for each typed word, a word starting with it: the longest typed word's rows, each other
   * word checked on the collaborator's keys. `oneKey` when the longest is one key (KEY_LENGTH code
   * points or more): its rows are in name order, one collaborator's next to each other (a key may
   * hold several of its words), grouped by its names and id. A shorter word reads a range of keys,
   * in no useful order.
   */
  private searching(words: string[], replacements: Record<string, unknown>): Search {
    const [first, ...others] = [...words].sort((a, b) => Array.from(b).length - Array.from(a).length) as [string, ...string[]];
    const { key, from, to } = searchKey(first);
    Object.assign(replacements, { key, from0: from, to0: to });
    const checks = others.map((word, i) => {
      const range = searchKey(word);
      Object.assign(replacements, { [`from${i + 1}`]: range.from, [`to${i + 1}`]: range.to });
      return `EXISTS (SELECT 1 FROM collaborator_search_keys x WHERE x.collaborator_id = s.collaborator_id AND x.word >= :from${i + 1} AND x.word < :to${i + 1})`;
    });
    const rows = key !== null ? ['s.prefix = :key', 's.word >= :from0', 's.word < :to0'] : ['s.prefix >= :from0', 's.prefix < :to0'];
    return { oneKey: key !== null, conditions: ['s.mailbox_id = :mailbox', ...rows, ...checks] };
  }

  /** The ids (`id`) of a search's matches (`searching`), each once, in no order. */
  private matching(search: string[]): string {
    return `SELECT s.collaborator_id AS id FROM collaborator_search_keys s WHERE ${search.join(' AND ')} GROUP BY s.collaborator_id`;
  }

  /** One row of the list, as it is now (after an action on it). */
  async row(collaborator: Collaborator): Promise<ListRow> {
    const [record] = await select<{ row_facts: string | unknown[] }>(this.db, ROW_SQL, [collaborator.id]);
    if (!record) throw new NotFound('collaborator');
    return rowOf(recordOf(record), this.clock.now());
  }

  /** SQLite's and MariaDB's way of joining in the order written (the planner left alone may start from `collaborators`). */
  private get straightJoin(): string {
    return this.db.dialect === 'sqlite' ? 'CROSS JOIN' : 'STRAIGHT_JOIN';
  }

  /**
   * A search's rows in another order than the name's: its matches first, then their collaborators
   * (the planner left alone would read the mailbox's collaborators and probe the matches).
   */
  private fromMatches(matches: string): string {
    return `(${matches}) m ${this.straightJoin} collaborators c ON c.id = m.id`;
  }

  /** The search keys `s`, with their collaborators `c` when a status filters them. */
  private keysFrom(status: Status | null): string {
    return status ? `collaborator_search_keys s ${this.straightJoin} collaborators c ON c.id = s.collaborator_id` : 'collaborator_search_keys s';
  }

  /**
   * How many collaborators a search finds (`searching`), in `status` if given, each counted once: on
   * one key, its rows in name order grouped as they come (an index-only count, but for the status's
   * probe); on a range of keys, its matches grouped by id.
   */
  private async countFound({ oneKey, conditions }: Search, status: Status | null, replacements: Record<string, unknown>): Promise<number> {
    if (!oneKey) {
      const matches = this.matching(conditions);
      return this.counted(status ? `SELECT COUNT(*) AS n FROM ${this.fromMatches(matches)} WHERE c.status = :status` : `SELECT COUNT(*) AS n FROM (${matches}) m`, replacements);
    }
    const all = [...conditions, ...(status ? ['c.status = :status'] : [])];
    return this.counted(`SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ${this.keysFrom(status)} WHERE ${all.join(' AND ')} GROUP BY ${KEY_GROUP}) m`, replacements);
  }

  /**
   * What `count` gives, kept under `key` (the mailbox, the list's version, the status and search
   * words counted): the version (src/db/list-versions.ts) is raised with every change of a name, a
   * status or the list's members, so a count kept for it is that version's in every process. A search
   * paged through, sorted or asked again is counted once, not at every page: ?q=rossi at 100,000
   * collaborators counts 5,000 matches, ~1 ms of SQLite's CPU a request (`bench:profile`).
   */
  private async keptCount(key: string, count: () => Promise<number>): Promise<number> {
    const kept = this.counts.get(key);
    if (kept !== undefined) return kept;
    const counted = await count();
    this.counts.set(key, counted);
    return counted;
  }


  /** How many of the mailbox's collaborators meet these conditions on `c` (a status). */
  private count(filter: string[], replacements: Record<string, unknown>): Promise<number> {
    return this.counted(`SELECT COUNT(*) AS n FROM collaborators c WHERE ${filter.join(' AND ')}`, replacements);
  }

  private async counted(sql: string, replacements: Record<string, unknown>): Promise<number> {
    const [row] = await this.selected<{ n: number | string }>(sql, replacements);
    return Number(row?.n ?? 0);
  }

  /** The rows of a SELECT written with named replacements (`:name`), by one plain statement (src/db/statements.ts). */
  private selected<R extends object>(sql: string, replacements: Record<string, unknown>): Promise<R[]> {
    const bound = namedParameters(sql, replacements);
    return select<R>(this.db, bound.sql, bound.values);
  }

  /** The row a keyset page starts next to, when it is one of this mailbox's. */
  private async cursor(mailbox: Mailbox, { after, before }: PagePosition): Promise<{ direction: 'after' | 'before'; id: number; lastName: string; firstName: string } | null> {
    const id = after ?? before;
    if (!id || !Number.isSafeInteger(id)) return null;
    const [row] = await this.db.sequelize.query<{ last_name: string; first_name: string }>(
      'SELECT last_name, first_name FROM collaborators WHERE id = ? AND mailbox_id = ?',
      { replacements: [id, mailbox.id], type: QueryTypes.SELECT },
    );
    return row ? { direction: after ? 'after' : 'before', id, lastName: row.last_name, firstName: row.first_name } : null;
  }

  /**
   * A collaborator of this mailbox; another mailbox's looks exactly like a missing one. An id is
   * written one way only (`5`, never `05`, `5.0` or `0x5`): one address per page.
   */
  async find(mailbox: Mailbox, id: number | string): Promise<Collaborator> {
    const key = /^[1-9]\d{0,15}$/.test(String(id)) ? Number(id) : NaN;
    const [row] = Number.isSafeInteger(key) ? await select(this.db, this.findSql, [key, mailbox.id]) : [];
    const found = row ? this.collaborators.read(row) : null;
    if (!found) throw new NotFound('collaborator');
    return found;
  }

  async details(collaborator: Collaborator): Promise<CollaboratorDetails> {
    const [links, emails, activity, pendingKicks, twoStep, appPasswords] = await Promise.all([
      this.links.history(collaborator),
      this.outbox.emailsOf(collaborator.id),
      this.audit.list(collaborator.mailboxId, { collaboratorId: collaborator.id, limit: 50 }),
      this.outbox.pendingKicks(collaborator.id),
      this.twoStep.isOn({ type: 'collaborator', id: collaborator.id }),
      this.appPasswords.list(collaborator),
    ]);
    const now = this.clock.now();
    return { links: links.map((link) => ({ link, state: link.stateAt(now) })), emails, activity, pendingKicks, twoStep, appPasswords };
  }
}
