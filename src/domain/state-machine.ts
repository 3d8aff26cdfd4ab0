import type { Status } from '../models';
import { TransitionRefused } from './errors';

/** Everything that can happen to a collaborator account. */
export type AccountEvent =
  | 'reset'
  | 'resend'
  | 'redeem'
  | 'request_self_reset'
  | 'redeem_self_reset'
  | 'deactivate'
  | 'remove'
  | 'change_password'
  | 'change_access'
  | 'recreate'
  | 'reactivate'
  | 'rename'
  | 'set_access_end'
  | 'end_access';

/**
 * The whole state machine of DESIGN §1: for each event, the states it may start from and the state
 * it leads to. `removed` means the row is gone. Anything not listed is refused.
 */
const TRANSITIONS: Record<AccountEvent, Partial<Record<Status, Status | 'removed'>>> = {
  reset: { active: 'suspended' },
  resend: { pending: 'pending', suspended: 'suspended' },
  redeem: { pending: 'active', suspended: 'active' },
  request_self_reset: { active: 'active' },
  redeem_self_reset: { active: 'active' },
  deactivate: { active: 'deactivated', pending: 'deactivated', suspended: 'deactivated' },
  remove: { deactivated: 'removed' },
  change_password: { active: 'active' },
  change_access: { active: 'active', pending: 'pending', suspended: 'suspended' },
  // A corrected reference email: the account, by its username, is pending again, as a new row
  // (an account's reference email is never edited in place); the old row is removed with it.
  recreate: { active: 'pending', pending: 'pending', suspended: 'pending' },
  // A new invitation to the same reference email: undoes a deactivation.
  reactivate: { deactivated: 'pending' },
  rename: { active: 'active', pending: 'pending', suspended: 'suspended' },
  // The owner sets, moves or removes the end of access.
  set_access_end: { active: 'active', pending: 'pending', suspended: 'suspended' },
  // The end of access has come: deactivated, as by the owner, not suspended. Suspended means waiting
  // for the collaborator's new password after an owner's reset, with a link out; an ended period waits
  // for nothing from the collaborator, and the owner may reactivate or remove the account.
  end_access: { active: 'deactivated', pending: 'deactivated', suspended: 'deactivated' },
};

export function transition(from: Status, event: AccountEvent): Status | 'removed' {
  const to = TRANSITIONS[event][from];
  if (!to) throw new TransitionRefused(from, event);
  return to;
}

export function allows(from: Status, event: AccountEvent): boolean {
  return TRANSITIONS[event][from] !== undefined;
}
