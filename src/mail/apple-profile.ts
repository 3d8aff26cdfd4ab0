import { v5 as uuidv5 } from 'uuid';
import type { MailSetup } from './mail-setup';
import { escapeXml } from './xml';

/** Our namespace for profile UUIDs: the same account always yields the same profile (it replaces, not duplicates). */
const NAMESPACE = '2f0e8c52-8f7c-4d0e-9a51-6c1f3b7d2a10';

const string = (key: string, value: string) => `<key>${key}</key><string>${escapeXml(value)}</string>`;
const integer = (key: string, value: number) => `<key>${key}</key><integer>${Math.trunc(value)}</integer>`;
const boolean = (key: string, value: boolean) => `<key>${key}</key><${value}/>`;

export interface AppleProfileInput {
  /** The collaborator's own setup: address the mailbox, login its username. */
  setup: MailSetup;
  fullName: string;
  /** Reverse-DNS prefix for payload identifiers, from BASE_URL's host. */
  host: string;
}

/**
 * An Apple configuration profile (.mobileconfig) with one IMAP account. It carries no password:
 * iPhone, iPad and Mac ask for it when the profile is installed. The Mail payload
 * (com.apple.mail.managed) holds one incoming server of one type (EmailTypeIMAP or EmailTypePOP):
 * IMAP, which keeps the mailbox's folders in step across devices; POP3 stays for other programs.
 */
export function appleMailProfile({ setup, fullName, host }: AppleProfileInput): string {
  const { address: mailbox, login: username, imap, submission } = setup;
  const id = host.split('.').reverse().join('.');
  const account = [
    string('PayloadType', 'com.apple.mail.managed'),
    integer('PayloadVersion', 1),
    string('PayloadIdentifier', `${id}.mail.${uuidv5(`account:${username}`, NAMESPACE)}`),
    string('PayloadUUID', uuidv5(`account:${username}`, NAMESPACE)),
    string('PayloadDisplayName', mailbox),
    string('EmailAccountDescription', `PEC ${mailbox}`),
    string('EmailAccountName', fullName),
    string('EmailAccountType', 'EmailTypeIMAP'),
    string('EmailAddress', mailbox),
    string('IncomingMailServerAuthentication', 'EmailAuthPassword'),
    string('IncomingMailServerHostName', imap.host),
    integer('IncomingMailServerPortNumber', imap.port),
    // Apple's Configuration Profile Reference has one boolean, "use SSL", and no STARTTLS choice:
    // true asks for TLS whichever way the port offers it (Apple's own settings for iCloud say "SSL
    // required" for submission on 587, a STARTTLS port); false would allow a clear-text session.
    // So it is true for both securities: `ssl` and `starttls` each mean TLS is required.
    boolean('IncomingMailServerUseSSL', true),
    string('IncomingMailServerUsername', username),
    string('OutgoingMailServerAuthentication', 'EmailAuthPassword'),
    string('OutgoingMailServerHostName', submission.host),
    integer('OutgoingMailServerPortNumber', submission.port),
    boolean('OutgoingMailServerUseSSL', true),
    string('OutgoingMailServerUsername', username),
    boolean('OutgoingPasswordSameAsIncomingPassword', true),
  ].join('\n      ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    ${string('PayloadType', 'Configuration')}
    ${integer('PayloadVersion', 1)}
    ${string('PayloadIdentifier', `${id}.profile.${uuidv5(`profile:${username}`, NAMESPACE)}`)}
    ${string('PayloadUUID', uuidv5(`profile:${username}`, NAMESPACE))}
    ${string('PayloadDisplayName', `PEC ${mailbox}`)}
    ${boolean('PayloadRemovalDisallowed', false)}
    <key>PayloadContent</key>
    <array>
      <dict>
      ${account}
      </dict>
    </array>
  </dict>
</plist>
`;
}
