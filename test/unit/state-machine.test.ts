import { expect } from 'chai';
import { transition, type AccountEvent } from '../../src/domain/state-machine';
import { TransitionRefused } from '../../src/domain/errors';
import { STATUSES, type Status } from '../../src/models';

/** DESIGN §1, written out again on purpose: the table the code must match. */
const EXPECTED: Record<AccountEvent, Partial<Record<Status, Status | 'removed'>>> = {
  reset: { active: 'suspended' },
  resend: { pending: 'pending', suspended: 'suspended' },
  redeem: { pending: 'active', suspended: 'active' },
  request_self_reset: { active: 'active' },
  redeem_self_reset: { active: 'active' },
  deactivate: { active: 'deactivated', pending: 'deactivated', suspended: 'deactivated' },
  remove: { deactivated: 'removed' },
  change_password: { active: 'active' },
  change_access: { active: 'active', pending: 'pending', suspended: 'suspended' },
  recreate: { active: 'pending', pending: 'pending', suspended: 'pending' },
  reactivate: { deactivated: 'pending' },
  rename: { active: 'active', pending: 'pending', suspended: 'suspended' },
  set_access_end: { active: 'active', pending: 'pending', suspended: 'suspended' },
  end_access: { active: 'deactivated', pending: 'deactivated', suspended: 'deactivated' },
};

describe('transition', function () {
  for (const [event, allowed] of Object.entries(EXPECTED) as Array<[AccountEvent, Partial<Record<Status, Status | 'removed'>>]>) {
    for (const from of STATUSES) {
      const to = allowed[from];
      if (to) {
        it(`should take ${from} to ${to} on ${event}`, function () {
          expect(transition(from, event)).to.equal(to);
        });
      } else {
        it(`should refuse ${event} when ${from}`, function () {
          expect(() => transition(from, event)).to.throw(TransitionRefused);
        });
      }
    }
  }
});
