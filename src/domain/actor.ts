import type { ActorType } from '../models';

/** Who does something, as the activity log records it. */
export interface Actor {
  type: ActorType;
  id: number | null;
  name: string;
  ip?: string | null;
}

export const system: Actor = { type: 'system', id: null, name: 'system' };
