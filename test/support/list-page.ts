import type { CollaboratorPage, ListRow } from '../../src/domain/directory';
import { ACCESS_LEVELS, STATUSES } from '../../src/models';
import type { DeliveryStatus } from '../../src/models/outbox-message';

/** Names a row must print as text: markup, references, quotes, a slot marker, letters beyond Latin-1. */
const NAMES: Array<[string, string]> = [
  ['Giulia', 'D’Amico'],
  ['<script>alert(1)</script>', 'Rossi & Figli'],
  ['"Anna"', "O'Brien"],
  ['<!--pec-slot AAAA 0-->', '&amp; &lt;'],
  ['Zoë', 'Ærøskøbing 😀'],
  ['', 'Solo'],
  ['Mario', 'Rossi'],
  ['Łukasz', 'Ünal-Öztürk'],
];
const USERNAMES = ['mario.rossi', 'a..b.', '.start/x', 'dots.and@signs/too', '<b>&"\'', 'x', 'ümlaut.name', 'pec-slot.<!--'];
const EMAILS = ['mario@example.com', 'a&b@example.it', '"quoted"@ex.am.ple', '<x@y.z>', 'trailing.dot.@example.com.', 'ł@ż.pl', 'plain', 'o\'neil@example.org'];
const DELIVERIES: Array<DeliveryStatus | null> = [null, 'queued', 'retrying', 'sent', 'failed'];
const TEMPLATES = ['invitation', 'owner_reset', 'access_ended', 'password_set', 'two_step_enabled'];

/**
 * Instants around the changes of Italian time (29 Mar and 25 Oct 2026, at 01:00 UTC), at midnight
 * either side, and at odd minutes and seconds: every way a row prints a date.
 */
const INSTANTS = [
  '2026-03-29T00:59:59.999Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z', '2026-03-29T00:30:00Z',
  '2026-10-25T00:00:00Z', '2026-10-25T00:59:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:59:30Z', '2026-10-25T02:07:00Z',
  '2026-12-31T22:59:00Z', '2026-12-31T23:00:00Z', '2026-06-30T21:45:10Z', '2026-06-30T22:05:00Z', '2025-01-01T00:00:00Z',
  '2026-11-30T09:15:00Z', '2027-02-28T23:09:00Z',
].map((iso) => new Date(iso));

const at = (i: number) => INSTANTS[i % INSTANTS.length] as Date;

/** A row for each mix of status, delivery, link, access, two-step, app passwords and end of access. */
export function variedRows(count = 80): ListRow[] {
  return Array.from({ length: count }, (_, i) => {
    const [firstName, lastName] = NAMES[i % NAMES.length] as [string, string];
    const status = STATUSES[i % STATUSES.length] as ListRow['status'];
    const delivery = DELIVERIES[Math.floor(i / 4) % DELIVERIES.length] ?? null;
    const waits = status === 'pending' || status === 'suspended';
    return {
      id: i * 37 + 1,
      firstName,
      lastName,
      username: `${USERNAMES[i % USERNAMES.length]}/owner@example.com`,
      referenceEmail: EMAILS[Math.floor(i / 3) % EMAILS.length] as string,
      accessLevel: ACCESS_LEVELS[Math.floor(i / 2) % ACCESS_LEVELS.length] as ListRow['accessLevel'],
      manageSettings: i % 5 === 0,
      status,
      lastEmail: delivery ? { status: delivery, template: TEMPLATES[i % TEMPLATES.length] as string, at: at(i + 3) } : null,
      link: waits && i % 3 !== 0 ? { expiresAt: at(i + 5), expired: i % 3 === 1 } : null,
      lastAccess: i % 7 === 0 ? null : at(i),
      twoStep: i % 6 === 1,
      appPasswords: [0, 1, 3][i % 3] as number,
      accessEndsAt: i % 4 === 3 ? at(i + 7) : null,
    };
  });
}

/** A page of the list around `rows`, as Directory.list gives it. */
export function pageOf(rows: ListRow[], over: Partial<CollaboratorPage> = {}): CollaboratorPage {
  return { rows, total: 1234, page: 2, pages: 25, query: '', status: null, sort: 'name', direction: 'asc', keyset: true, changesAt: null, ...over };
}
