import type { ActorType } from '../models';

/**
 * Who did something, for the record: the activity log keeps its type, id, name and address as they
 * were then, so an entry outlives the account. Besides an owner or a collaborator it may be the
 * system, or an anonymous visitor (a forgot-password request), which no session names.
 */
export interface Actor {
  type: ActorType;
  id: number | null;
  name: string;
  ip?: string | null;
  /** The User-Agent header of the request, for the device the log names. */
  userAgent?: string | null;
}

export const system: Actor = { type: 'system', id: null, name: 'system' };
