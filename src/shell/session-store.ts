import session from 'express-session';
import type { Request } from 'express';
import { Op } from 'sequelize';
import { retryingConflicts, type Database } from '../db';
import { select } from '../db/statements';
import { principalKey, sessionKey } from '../domain/sessions';

type Callback = (err?: unknown) => void;

/** Set on a session object whose row exists: saving it again may only update that row. */
const STORED = Symbol('stored');
type Marked = session.SessionData & { [STORED]?: true };

/** How often one process moves a session's idle expiry forward in the database. */
const TOUCH_EVERY_MS = 60 * 1000;
const SWEEP_EVERY_MS = 15 * 60 * 1000;

/**
 * express-session's store on the `sessions` table, with three rules a revoked or stolen session
 * must not get around:
 * - rows are keyed by `sessionKey(sid)`, a digest: the database never holds a usable cookie;
 * - a row whose `expires` has passed does not exist, whoever asks;
 * - only a session created by this request is inserted; one loaded from the database is saved by an
 *   UPDATE of its row, so a request still in flight when the row was revoked (sign-out, "sign out
 *   everywhere else", a password reset) cannot bring it back.
 *
 * Given `companion` columns and joins over the session row `s` (Accounts.sessionAccount), it reads
 * them in the same statement as the session, and keeps that row for the request (`companionOf`).
 */
export class DatabaseSessionStore extends session.Store {
  private readonly touchedAt = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly readSql: string;
  /** The row of each session read, by its data until express-session makes the request's session of it, then by request. */
  private readonly rows = new WeakMap<object, Record<string, unknown>>();

  constructor(
    private readonly db: Database,
    /** Idle lifetime of a session, in ms, when its cookie has no expiry of its own. */
    private readonly ttlMs: number,
    companion?: { columns: string; joins: string },
  ) {
    super();
    // A failed sweep is simply done again at the next one; expired rows are refused meanwhile.
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
    this.readSql = companion
      ? `SELECT s.data, ${companion.columns} FROM sessions s ${companion.joins} WHERE s.sid = $1 AND s.expires > $2`
      : 'SELECT s.data FROM sessions s WHERE s.sid = $1 AND s.expires > $2';
  }

  /**
   * Every request of a signed-in person asks: one plain statement, without the model's work around it.
   * The session found has its idle expiry moved forward here (at most once a minute per session and
   * process), not by express-session's `touch` at the end of the answer: a store without `touch` spares
   * every request one hash of its session (express-session hashes it once more to decide on touching).
   */
  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    select<{ data: string | null }>(this.db, this.readSql, [sessionKey(sid), new Date()])
      .then(async ([row]) => {
        if (!row?.data) return null;
        const data = JSON.parse(row.data) as session.SessionData;
        this.rows.set(data, row);
        // A remembered session's row moves with its cookie instead, saved once a minute (renewRemembered).
        if (!data.cookie?.expires && this.touchDue(sid)) await this.moveExpiry(sid, data);
        return data;
      })
      .then(
        (data) => callback(null, data),
        (err: unknown) => callback(err),
      );
  }

  override createSession(req: Request, data: session.SessionData): session.Session & session.SessionData {
    const loaded = super.createSession(req, data);
    (loaded as Marked)[STORED] = true;
    const row = this.rows.get(data);
    if (row) this.rows.set(req, row);
    return loaded;
  }

  /** The companion columns read with this request's session, if it was read from the database. */
  companionOf(req: Request): Record<string, unknown> | undefined {
    return this.rows.get(req);
  }

  override set(sid: string, data: session.SessionData, callback: Callback = () => undefined): void {
    const marked = data as Marked;
    const key = sessionKey(sid);
    const fields = {
      data: JSON.stringify(data),
      expires: this.expiry(data),
      principal: data.identity ? principalKey(data.identity.principal) : null,
      ip: data.ip ?? null,
      userAgent: data.userAgent ?? null,
    };
    const { Session } = this.db.models;
    // One person's requests through two nodes of a Galera cluster write one row: a lost conflict is written again.
    const saved = marked[STORED]
      ? retryingConflicts(() => Session.update(fields, { where: { sid: key, expires: { [Op.gt]: new Date() } } }))
      : Session.create({ sid: key, ...fields }).then(() => {
          marked[STORED] = true;
        });
    // Saved with its expiry moved forward: no touch for a minute.
    saved.then(() => {
      this.touched(sid, Date.now());
      callback();
    }, callback);
  }

  /** Whether `sid`'s expiry is to move forward now (at most once a minute per session and process); if so, noted as moved. */
  private touchDue(sid: string): boolean {
    const now = Date.now();
    if (now - (this.touchedAt.get(sid) ?? 0) < TOUCH_EVERY_MS) return false;
    this.touched(sid, now);
    return true;
  }

  private touched(sid: string, at: number): void {
    // Bounded: forgetting every session only costs one early touch each.
    if (this.touchedAt.size >= 10_000) this.touchedAt.clear();
    this.touchedAt.set(sid, at);
  }

  /** Moves the idle expiry forward (one write), only while the row is still alive. */
  private async moveExpiry(sid: string, data: session.SessionData): Promise<void> {
    await retryingConflicts(() => this.db.models.Session.update({ expires: this.expiry(data) }, { where: { sid: sessionKey(sid), expires: { [Op.gt]: new Date() } } }));
  }

  override destroy(sid: string, callback: Callback = () => undefined): void {
    retryingConflicts(() => this.db.models.Session.destroy({ where: { sid: sessionKey(sid) } })).then(() => callback(), callback);
  }

  /** Deletes the rows whose expiry has passed (also done every 15 minutes on its own). */
  async sweep(): Promise<void> {
    await this.db.models.Session.destroy({ where: { expires: { [Op.lte]: new Date() } } });
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private expiry(data: session.SessionData): Date {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires) : new Date(Date.now() + this.ttlMs);
  }
}
