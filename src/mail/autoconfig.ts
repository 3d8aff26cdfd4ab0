/**
 * The documents mail programs configure themselves from, as text: Thunderbird autoconfig and
 * Microsoft Autodiscover (POX) answers, and the one field read from an Autodiscover request. Both
 * answers are a MailSetup (mail-setup.ts) written in each program's format: IMAP and POP3 incoming,
 * submission outgoing, each with its configured security.
 */
import type { MailProgramSettings, MailSecurity, MailService } from '../config';
import { mailSetup, type MailSetup } from './mail-setup';
import { escapeXml } from './xml';

export interface AutoconfigSettings extends MailProgramSettings {
  /** The provider's name as mail programs show it. */
  providerName?: string;
}

/** Who asks: a collaborator's username (`chosen/mailbox`) or a mailbox address. */
export interface MailAddress {
  username: string;
  mailbox: string;
  domain: string;
}

const CHOSEN = /^[a-z0-9._-]{3,40}$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const MAILBOX = new RegExp(`^[a-z0-9._+-]{1,64}@(${LABEL}(?:\\.${LABEL})+)$`);

/** Parses `chosen/mailbox@domain` or `mailbox@domain`; null when it is neither. */
export function parseMailAddress(raw: string): MailAddress | null {
  const value = raw.trim().toLowerCase();
  if (value.length > 320) return null;
  const slash = value.indexOf('/');
  const mailbox = slash === -1 ? value : value.slice(slash + 1);
  if (slash !== -1 && !CHOSEN.test(value.slice(0, slash))) return null;
  const match = MAILBOX.exec(mailbox);
  return match ? { username: value, mailbox, domain: match[1] } : null;
}

/**
 * The setup autoconfig and Autodiscover describe for what the program was given. They cannot tell
 * which collaborator asks: a mailbox address is named as its own login (right for the owner), a
 * collaborator's username as the login, and the address is the mailbox either way.
 */
function setupFor(settings: MailProgramSettings, address: MailAddress): MailSetup {
  return mailSetup(settings, { mailbox: address.mailbox, login: address.username });
}

/** Thunderbird's socketType (clientConfig 1.1). */
const SOCKET_TYPES: Record<MailSecurity, 'SSL' | 'STARTTLS'> = { ssl: 'SSL', starttls: 'STARTTLS' };

/**
 * Thunderbird's clientConfig 1.1, with an incomingServer for IMAP (preferred, first) and one for
 * POP3, and the submission server. Without an address `%EMAILADDRESS%` lets Thunderbird fill in
 * what the user typed. `domains`: the mail domains the installation serves.
 */
export function thunderbirdConfig(settings: AutoconfigSettings, address: MailAddress | null, domains: string[]): string {
  const setup = address ? setupFor(settings, address) : mailSetup(settings, { mailbox: '%EMAILADDRESS%', login: '%EMAILADDRESS%' });
  const listed = address ? [address.domain] : domains;
  const id = listed[0] ?? settings.imap.host;
  const name = escapeXml(settings.providerName ?? `PEC ${id}`);
  const server = (tag: string, type: string, service: MailService) => `
    <${tag} type="${type}">
      <hostname>${escapeXml(service.host)}</hostname>
      <port>${service.port}</port>
      <socketType>${SOCKET_TYPES[service.security]}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${escapeXml(setup.login)}</username>
    </${tag}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escapeXml(id)}">${listed.map((d) => `
    <domain>${escapeXml(d)}</domain>`).join('')}
    <displayName>${name}</displayName>
    <displayShortName>${name}</displayShortName>${server('incomingServer', 'imap', setup.imap)}${server('incomingServer', 'pop3', setup.pop3)}${server('outgoingServer', 'smtp', setup.submission)}
  </emailProvider>
</clientConfig>
`;
}

const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** Autodiscover's Encryption: `SSL` is TLS from the first byte, `TLS` is STARTTLS. */
const ENCRYPTIONS: Record<MailSecurity, 'SSL' | 'TLS'> = { ssl: 'SSL', starttls: 'TLS' };

/**
 * Autodiscover POX answer: IMAP, POP3 and SMTP Protocol blocks, in that order of preference, and
 * the mailbox as the account's address (AutoDiscoverSMTPAddress).
 */
export function autodiscoverResponse(settings: AutoconfigSettings, address: MailAddress): string {
  const setup = setupFor(settings, address);
  const protocol = (type: 'IMAP' | 'POP3' | 'SMTP', service: MailService) => `
      <Protocol>
        <Type>${type}</Type>
        <Server>${escapeXml(service.host)}</Server>
        <Port>${service.port}</Port>
        <DomainRequired>off</DomainRequired>
        <LoginName>${escapeXml(setup.login)}</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>${ENCRYPTIONS[service.security]}</Encryption>
        <AuthRequired>on</AuthRequired>${type === 'SMTP' ? `
        <UsePOPAuth>off</UsePOPAuth>
        <SMTPLast>off</SMTPLast>` : ''}
      </Protocol>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_NS}">
    <User>
      <DisplayName>${escapeXml(setup.address)}</DisplayName>
      <AutoDiscoverSMTPAddress>${escapeXml(setup.address)}</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>${protocol('IMAP', setup.imap)}${protocol('POP3', setup.pop3)}${protocol('SMTP', setup.submission)}
    </Account>
  </Response>
</Autodiscover>
`;
}

/** Autodiscover's error answer; 600 is "Invalid Request". */
export function autodiscoverError(message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error>
      <ErrorCode>600</ErrorCode>
      <Message>${escapeXml(message)}</Message>
    </Error>
  </Response>
</Autodiscover>
`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Character data with its entities resolved; null when an entity is unknown or a bare "&" appears. */
function decodeText(text: string): string | null {
  let valid = true;
  const decoded = text.replace(/&(?:#x([0-9a-f]+)|#([0-9]+)|([a-z]+));|&/gi, (_whole, hex?: string, dec?: string, name?: string) => {
    const code = hex ? parseInt(hex, 16) : dec ? parseInt(dec, 10) : NaN;
    const value = name ? ENTITIES[name] : code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
    if (value === undefined) valid = false;
    return value ?? '';
  });
  return valid ? decoded : null;
}

// An element tag: closing slash, optional namespace prefix, local name, attributes, self-closing slash.
const TAG = /<(\/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\s+[^\s=<>/]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;

/**
 * Reads `Autodiscover/Request/EMailAddress` from a request body. One field needs no XML library,
 * but the document must still be well formed (tags nest and close, one root, no DTD, known
 * entities): anything else is answered 400 with the reason.
 */
export function emailAddressFromAutodiscover(xml: string): { address: string } | { error: string } {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { error: 'DTDs are not accepted' };
  const body = xml.replace(/^\uFEFF?\s*<\?xml\s[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  const addresses: string[] = [];
  let roots = 0;
  let position = 0;
  let justOpened = '';
  while (position < body.length) {
    const next = body.indexOf('<', position);
    const text = body.slice(position, next === -1 ? body.length : next);
    if (stack.length === 0 && text.trim()) return { error: 'malformed XML: text outside the root element' };
    if (next === -1) break;
    TAG.lastIndex = next;
    const tag = TAG.exec(body);
    if (!tag) return { error: 'malformed XML' };
    position = TAG.lastIndex;
    const [, closing, name, , selfClosing] = tag;
    if (closing) {
      if (stack.pop() !== name) return { error: `malformed XML: unexpected </${name}>` };
      if (name === 'EMailAddress' && justOpened === name && stack.join('/') === 'Autodiscover/Request') {
        const decoded = decodeText(text);
        if (decoded === null) return { error: 'malformed XML: unknown entity' };
        addresses.push(decoded.trim());
      }
      justOpened = '';
      continue;
    }
    if (stack.length === 0 && ++roots > 1) return { error: 'malformed XML: more than one root element' };
    if (stack.length === 0 && name !== 'Autodiscover') return { error: 'the root element must be Autodiscover' };
    justOpened = selfClosing ? '' : name;
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) return { error: `malformed XML: <${stack[stack.length - 1]}> is not closed` };
  if (roots === 0) return { error: 'empty request' };
  if (addresses.length !== 1) return { error: 'expected one Request/EMailAddress' };
  return { address: addresses[0] };
}
