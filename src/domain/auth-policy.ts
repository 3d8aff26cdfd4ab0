import type { MailProtocol } from '../models';
import { canonicalName, NAME_MAX_LENGTH } from '../lib/names';
import { allowanceOf } from '../lib/ip';
import type { AccessHistory } from './access-history';
import type { AppPasswords } from './app-passwords';
import type { LimitName, RateLimits, Verdict } from './rate-limits';

/**
 * One sign-in attempt of a mail program, as Dovecot's auth policy client sends it: the fields named
 * by `auth_policy_request_attributes` in deploy/dovecot/dovecot.conf.
 */
export interface PolicyRequest {
  /** The username as the client typed it (`%{requested_username}`). */
  login: string;
  /** The client's address (`%{rip}`). */
  remote: string;
  /** Dovecot's service name (`%s`); `smtp` is Postfix asking through the auth socket. */
  protocol: MailProtocol;
  /** The IMAP ID list the client sent before logging in (`%{client_id}`, with `imap_id_retain`), or ''. */
  clientId: string;
}

/** What Dovecot reports once the password was checked (`command=report`). */
export interface PolicyReport extends PolicyRequest {
  success: boolean;
  /** True when the policy server itself refused the attempt before the password was checked. */
  policyReject: boolean;
  /** The app password that signed in (`%{passdb:app_password}`, its id), or null for the account's own password. */
  appPassword: number | null;
}

/** Quoted strings, or NIL, of an IMAP ID parameter list (RFC 2971); escapes per RFC 3501's quoted. */
const ID_TOKEN = /"((?:[^"\\]|\\.)*)"|\bNIL\b/gi;

/**
 * The program's name and version from an IMAP ID parameter list (RFC 2971), as Dovecot passes it:
 * `"name" "Thunderbird" "version" "115.3.1"` gives `Thunderbird 115.3.1`. Null when the list names
 * no program. At most NAME_MAX_LENGTH characters, control characters dropped.
 */
export function clientName(idList: string): string | null {
  const tokens = [...idList.matchAll(ID_TOKEN)].map((m) => (m[1] === undefined ? null : m[1].replace(/\\(.)/g, '$1')));
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const [key, value] = [tokens[i], tokens[i + 1]];
    if (key && value) fields.set(key.toLowerCase(), value);
  }
  const name = fields.get('name');
  if (!name) return null;
  const version = fields.get('version');
  return (version ? `${name} ${version}` : name).replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, NAME_MAX_LENGTH) || null;
}

/**
 * Dovecot's auth policy server: mail-program sign-ins count against the very counters of the web
 * sign-in (one limit per account and per client address, whichever door the guesses come through),
 * and appear in the owner's access history beside the web's.
 */
export class AuthPolicy {
  constructor(
    private readonly rateLimits: RateLimits,
    private readonly accessHistory: AccessHistory,
    private readonly appPasswords: AppPasswords,
  ) {}

  /** The counters an attempt takes: the same as an untrusted browser's at POST /login. */
  private counters({ login, remote }: PolicyRequest): Array<[LimitName, string]> {
    return [['signInAccount', canonicalName(login)], ['signInIp', allowanceOf(remote)]];
  }

  /**
   * `command=allow`, before Dovecot checks the password: takes one attempt from the account's and the
   * address's counters, as the web does before it checks a password, so that parallel guesses cannot
   * overrun a limit. Refused: over a limit, and then even the right password is refused.
   */
  async allow(request: PolicyRequest): Promise<Verdict> {
    return this.rateLimits.take(this.counters(request));
  }

  /**
   * `command=report`, after the check: a success gives back its attempt (a stranger's failures keep
   * counting) and a failure keeps it; both are recorded in the access history, and a success with an
   * app password as that app password's last use. An attempt the policy refused is not: the web does
   * not record a sign-in its limits stopped either.
   */
  async report(report: PolicyReport): Promise<void> {
    if (report.policyReject) return;
    if (report.success) await Promise.all(this.counters(report).map(([name, key]) => this.rateLimits.giveBack(name, key)));
    if (report.success && report.appPassword !== null) await this.appPasswords.recordUse(report.appPassword, report.login, report.protocol, report.remote);
    await this.accessHistory.recordMailSignIn(report.login, report.success, {
      channel: report.protocol,
      ip: report.remote,
      clientName: clientName(report.clientId),
    });
  }
}
