/**
 * What a person types into a mail program, built once from the configuration and the account: the
 * account page, the set-password page, the emails, autoconfig, Autodiscover and the Apple profile
 * all read it, so that none of them can say something the others do not.
 */
import type { MailProgramSettings, MailSecurity, MailService } from '../config';

/**
 * One account as a mail program is set up for it.
 * - `address`: the email address field, always the mailbox address, so sent mail goes out
 *   `From:` the mailbox (a `chosen/mailbox` there became the From address, and replies bounced);
 * - `login`: the user name for incoming and outgoing servers alike: a collaborator's own username
 *   (`chosen/mailbox`), so Dovecot's log and the access history name the person; the mailbox
 *   address for its owner;
 * - `imap`, `pop3`: the incoming servers (either one); `submission`: the outgoing server, where the
 *   program authenticates with the same login and password (SMTP AUTH, RFC 4954; RFC 6409).
 */
export interface MailSetup {
  address: string;
  login: string;
  imap: MailService;
  pop3: MailService;
  submission: MailService;
}

/** Who sets up a program: the mailbox it works in, and the login it signs in with. */
export interface MailSetupAccount {
  mailbox: string;
  login: string;
}

/** The setup of `account` against the configured servers. Pure. */
export function mailSetup(server: MailProgramSettings, account: MailSetupAccount): MailSetup {
  return { address: account.mailbox, login: account.login, imap: server.imap, pop3: server.pop3, submission: server.submission };
}

/** The security as mail programs label the choice (Thunderbird's "Connection security", Outlook's "encrypted connection"). */
export const SECURITY_LABELS: Record<MailSecurity, string> = { ssl: 'SSL/TLS', starttls: 'STARTTLS' };
