import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Mailbox } from '../models';
import { dialectOf } from './connection';
import { execute } from './statements';

/**
 * The Collaborations list's version and count, one row of `collaborator_lists` per mailbox
 * (migrations/008-list-speed.ts). `version` is raised in the same transaction as every change of what
 * a row of the list shows: the account itself, its last email's status, its second factors and app
 * passwords, the mailbox's two-step rule. A list rendered for version N is then the list of version
 * N in every process (src/plugin/list-cache.ts).
 *
 * Every writer calls listChanged. They were database triggers at first, but on a Galera cluster
 * MariaDB 10.11 now and then failed to load a table's triggers while certification conflicts were
 * being resolved ("Unknown trigger has an error in its body: 'Query was empty'"), and from then on
 * refused every write to that table on that node until its table cache was flushed.
 */
export type ListChange =
  /** Something a row of this mailbox shows; `added` collaborators: +1 for an addition, -1 for a removal. */
  | { mailboxId: number; added?: number }
  /** Something these collaborators' rows show (a second factor, an app password). */
  | { collaboratorIds: readonly number[] }
  /** Something rows of these mailboxes show (a collaborator's last email shows its delivery state). */
  | { mailboxIds: readonly number[] };

const BUMP = 'UPDATE collaborator_lists SET version = version + 1';

/** What a transaction's one raise at its end covers (raisingOnce): a mailbox, and collaborators of it. */
interface Cover {
  mailboxId: number;
  collaboratorIds: ReadonlySet<number>;
}
const raisedAtEnd = new WeakMap<Transaction, Cover>();

/** Whether `change` is one that the raise at the end of the transaction makes anyway (a change of count never is). */
function covered(cover: Cover | undefined, change: ListChange): boolean {
  if (!cover) return false;
  if ('mailboxId' in change) return change.mailboxId === cover.mailboxId && !change.added;
  if ('collaboratorIds' in change) return change.collaboratorIds.every((id) => cover.collaboratorIds.has(id));
  return false;
}

/** How many list changes this process has begun: a list state read before one is not used after it (takeListState). */
let changesHere = 0;

export async function listChanged(sequelize: Sequelize, change: ListChange, t: Transaction | undefined): Promise<void> {
  changesHere += 1;
  if (t && covered(raisedAtEnd.get(t), change)) return;
  if ('mailboxId' in change) {
    const sql = `${BUMP}, collaborators = collaborators + $1 WHERE mailbox_id = $2`;
    // Outside a transaction through Sequelize: on SQLite a transaction of its own in this process's
    // turns (src/db/index.ts, writesInTurns), where a plain statement would wait for the lock in SQLite.
    if (t) await execute({ sequelize, dialect: dialectOf(sequelize) }, sql, [change.added ?? 0, change.mailboxId], t);
    else await sequelize.query(sql, { bind: [change.added ?? 0, change.mailboxId] });
  } else if ('collaboratorIds' in change) {
    if (change.collaboratorIds.length === 0) return;
    await sequelize.query(`${BUMP} WHERE mailbox_id IN (SELECT mailbox_id FROM collaborators WHERE id IN (?))`, { replacements: [change.collaboratorIds], transaction: t });
  } else {
    if (change.mailboxIds.length === 0) return;
    await sequelize.query(`${BUMP} WHERE mailbox_id IN (?)`, { replacements: [change.mailboxIds], transaction: t });
  }
}

/**
 * Runs `work` in `t`, then raises the list version of `cover.mailboxId` once: the listChanged calls
 * that `work` makes for that mailbox (without a change of count) or for `cover.collaboratorIds` (of
 * that mailbox) are that one statement, not one each. A version raised once or thrice in one
 * transaction is the same to readers: they see it only once committed.
 */
export async function raisingOnce<T>(sequelize: Sequelize, cover: { mailboxId: number; collaboratorIds: readonly number[] }, t: Transaction, work: () => Promise<T>): Promise<T> {
  raisedAtEnd.set(t, { mailboxId: cover.mailboxId, collaboratorIds: new Set(cover.collaboratorIds) });
  let result: T;
  try {
    result = await work();
  } finally {
    raisedAtEnd.delete(t);
  }
  await listChanged(sequelize, { mailboxId: cover.mailboxId }, t);
  return result;
}

export interface ListState {
  version: number;
  collaborators: number;
  twoStepRequired: boolean;
}

/**
 * The mailbox's list version and count, and its two-step rule, in one statement. A mailbox made
 * without Accounts.createMailbox (a host webmail's own records) gets its row at its first reading,
 * counted then.
 */
export async function listState(sequelize: Sequelize, mailboxId: number): Promise<ListState> {
  for (;;) {
    const [state] = await sequelize.query<{ version: number | string; collaborators: number; two_step_required: number | boolean }>(
      'SELECT l.version, l.collaborators, m.two_step_required FROM collaborator_lists l JOIN mailboxes m ON m.id = l.mailbox_id WHERE l.mailbox_id = ?',
      { replacements: [mailboxId], type: QueryTypes.SELECT },
    );
    if (state) return { version: Number(state.version), collaborators: Number(state.collaborators), twoStepRequired: Boolean(Number(state.two_step_required)) };
    const mailboxExists = await sequelize.query('SELECT 1 FROM mailboxes WHERE id = ?', { replacements: [mailboxId], type: QueryTypes.SELECT });
    if (mailboxExists.length === 0) return { version: 0, collaborators: 0, twoStepRequired: false };
    await createList(sequelize, mailboxId);
  }
}

/** Columns and join that read the list state of a mailbox `m` in the statement that reads `m` (keepListState). */
export const LIST_STATE_WITH_MAILBOX = {
  columns: 'l.version AS l_version, l.collaborators AS l_collaborators',
  joins: 'LEFT JOIN collaborator_lists l ON l.mailbox_id = m.id',
};

/** List states read with their mailbox's record, by that record, each for one takeListState. */
const keptStates = new WeakMap<Mailbox, { state: ListState; changesHere: number }>();

/**
 * Keeps the list state a statement read with `mailbox`'s record (LIST_STATE_WITH_MAILBOX columns in
 * `row`; nothing when the mailbox has no list row yet) for takeListState. The rule is the record's own.
 */
export function keepListState(mailbox: Mailbox, row: Record<string, unknown>): void {
  if (row.l_version === null || row.l_version === undefined) return;
  const state = { version: Number(row.l_version), collaborators: Number(row.l_collaborators), twoStepRequired: mailbox.twoStepRequired };
  keptStates.set(mailbox, { state, changesHere });
}

/**
 * The list state kept with `mailbox` (keepListState), once, and only while no list change has begun in
 * this process since it was read: a request's own change (and any other of this process) makes the
 * next reading go to the database. Changes committed elsewhere since are as if made after the read.
 */
export function takeListState(mailbox: Mailbox): ListState | undefined {
  const kept = keptStates.get(mailbox);
  keptStates.delete(mailbox);
  return kept?.changesHere === changesHere ? kept.state : undefined;
}

/** The list row of a new mailbox (or of one found without it), counting the collaborators it has. Idempotent. */
export async function createList(sequelize: Sequelize, mailboxId: number, t?: Transaction): Promise<void> {
  const ignore = sequelize.getDialect() === 'sqlite' ? 'OR IGNORE' : 'IGNORE';
  await sequelize.query(`INSERT ${ignore} INTO collaborator_lists (mailbox_id, version, collaborators) SELECT ?, 0, COUNT(*) FROM collaborators WHERE mailbox_id = ?`, {
    replacements: [mailboxId, mailboxId],
    transaction: t,
  });
}
