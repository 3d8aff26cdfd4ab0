/**
 * Reads what each consumer of the mail-program description says, back into one shape, so tests can
 * compare the account page, the emails, autoconfig, Autodiscover and the Apple profile with each other
 * and with the description itself. The documents are ours and regular: patterns suffice.
 */
import type { MailSecurity } from '../../src/config';

export interface ServiceSaid {
  host: string;
  port: number;
  security: MailSecurity;
}

export interface SetupSaid {
  address?: string;
  login: string;
  imap: ServiceSaid;
  pop3?: ServiceSaid;
  submission: ServiceSaid;
}

const unescapeXml = (value: string) =>
  value.replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d))).replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

function one(xml: string, name: string): string {
  const found = [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => unescapeXml(m[1]));
  if (found.length !== 1) throw new Error(`expected one <${name}>, found ${found.length}`);
  return found[0];
}

function blocks(xml: string, pattern: string): string[] {
  return [...xml.matchAll(new RegExp(pattern, 'g'))].map((m) => m[0]);
}

const SOCKET: Record<string, MailSecurity> = { SSL: 'ssl', STARTTLS: 'starttls' };

/** Thunderbird's clientConfig: incoming IMAP and POP3, outgoing SMTP; the login each names (all the same). */
export function fromAutoconfig(xml: string): SetupSaid {
  const service = (block: string): ServiceSaid & { login: string } => {
    const security = SOCKET[one(block, 'socketType')];
    if (!security) throw new Error(`unknown socketType in ${block}`);
    return { host: one(block, 'hostname'), port: Number(one(block, 'port')), security, login: one(block, 'username') };
  };
  const incoming = blocks(xml, '<incomingServer type="(imap|pop3)">[\\s\\S]*?</incomingServer>');
  const imap = service(incoming.find((b) => b.includes('type="imap"'))!);
  const pop3 = service(incoming.find((b) => b.includes('type="pop3"'))!);
  const submission = service(blocks(xml, '<outgoingServer type="smtp">[\\s\\S]*?</outgoingServer>')[0]!);
  const logins = new Set([imap.login, pop3.login, submission.login]);
  if (logins.size !== 1) throw new Error(`autoconfig names several logins: ${[...logins].join(', ')}`);
  const strip = ({ host, port, security }: ServiceSaid) => ({ host, port, security });
  return { login: imap.login, imap: strip(imap), pop3: strip(pop3), submission: strip(submission) };
}

const ENCRYPTION: Record<string, MailSecurity> = { SSL: 'ssl', TLS: 'starttls' };

/** Autodiscover POX: IMAP, POP3 and SMTP Protocol blocks and AutoDiscoverSMTPAddress. */
export function fromAutodiscover(xml: string): SetupSaid {
  const protocols = blocks(xml, '<Protocol>[\\s\\S]*?</Protocol>');
  const service = (type: string): ServiceSaid & { login: string } => {
    const block = protocols.find((b) => one(b, 'Type') === type);
    if (!block) throw new Error(`no ${type} Protocol`);
    const security = ENCRYPTION[one(block, 'Encryption')];
    if (!security || one(block, 'SSL') !== 'on') throw new Error(`unexpected encryption in ${block}`);
    return { host: one(block, 'Server'), port: Number(one(block, 'Port')), security, login: one(block, 'LoginName') };
  };
  const [imap, pop3, submission] = [service('IMAP'), service('POP3'), service('SMTP')];
  const logins = new Set([imap.login, pop3.login, submission.login]);
  if (logins.size !== 1) throw new Error(`Autodiscover names several logins: ${[...logins].join(', ')}`);
  const strip = ({ host, port, security }: ServiceSaid) => ({ host, port, security });
  return { address: one(xml, 'AutoDiscoverSMTPAddress'), login: imap.login, imap: strip(imap), pop3: strip(pop3), submission: strip(submission) };
}

/** The Apple profile's Mail payload, as plist keys; the security it states is only "TLS or not". */
export interface ProfileSaid {
  accountType: string;
  address: string;
  login: string;
  outgoingLogin: string;
  imap: { host: string; port: number; useSsl: boolean };
  submission: { host: string; port: number; useSsl: boolean };
}

export function fromAppleProfile(plist: string): ProfileSaid {
  const string = (key: string) => unescapeXml(new RegExp(`<key>${key}</key><string>([^<]*)</string>`).exec(plist)?.[1] ?? '');
  const integer = (key: string) => Number(new RegExp(`<key>${key}</key><integer>(\\d+)</integer>`).exec(plist)?.[1]);
  const boolean = (key: string) => {
    const value = new RegExp(`<key>${key}</key><(true|false)/>`).exec(plist)?.[1];
    if (value === undefined) throw new Error(`no ${key} in the profile`);
    return value === 'true';
  };
  return {
    accountType: string('EmailAccountType'),
    address: string('EmailAddress'),
    login: string('IncomingMailServerUsername'),
    outgoingLogin: string('OutgoingMailServerUsername'),
    imap: { host: string('IncomingMailServerHostName'), port: integer('IncomingMailServerPortNumber'), useSsl: boolean('IncomingMailServerUseSSL') },
    submission: { host: string('OutgoingMailServerHostName'), port: integer('OutgoingMailServerPortNumber'), useSsl: boolean('OutgoingMailServerUseSSL') },
  };
}

const LABELS: Record<string, MailSecurity> = { 'SSL/TLS': 'ssl', STARTTLS: 'starttls' };

/** The account page's (or set-password page's) fields, by their `data-field` names. */
export function fromPage(html: string): SetupSaid {
  const fields = new Map([...html.matchAll(/data-field="([^"]+)" data-value="([^"]*)"/g)].map((m) => [m[1], unescapeXml(m[2])]));
  const get = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`the page shows no ${name}`);
    return value;
  };
  const service = (name: string): ServiceSaid => ({ host: get(`${name}.host`), port: Number(get(`${name}.port`)), security: LABELS[get(`${name}.security`)]! });
  return { address: get('address'), login: get('login'), imap: service('imap'), pop3: service('pop3'), submission: service('submission') };
}

/** The lines of a mail_clients email (English) that state the setup. */
export function fromEmailText(text: string): SetupSaid {
  const line = (pattern: RegExp) => {
    const match = pattern.exec(text);
    if (!match) throw new Error(`the email has no line matching ${pattern}`);
    return match;
  };
  const service = (label: string): ServiceSaid => {
    const m = line(new RegExp(`\\(${label}\\): server (\\S+), port (\\d+), (SSL/TLS|STARTTLS)`));
    return { host: m[1], port: Number(m[2]), security: LABELS[m[3]]! };
  };
  return {
    address: line(/Email address: (\S+)/)[1],
    login: line(/Username, for incoming and outgoing mail: (\S+)/)[1],
    imap: service('IMAP'),
    pop3: service('POP3'),
    submission: service('SMTP'),
  };
}
