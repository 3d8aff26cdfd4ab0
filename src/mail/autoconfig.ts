/**
 * The documents mail programs configure themselves from, as text: Thunderbird autoconfig and
 * Microsoft Autodiscover (POX) answers, and the one field read from an Autodiscover request. The
 * answers name the configured IMAP and submission servers and the username to sign in with.
 */
import type { MailSecurity, MailServerConfig } from '../config';
import { escapeXml } from './xml';

export interface AutoconfigSettings extends MailServerConfig {
  /** The provider's name as mail programs show it. */
  providerName?: string;
}

type Security = 'SSL' | 'STARTTLS';

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

const SOCKET_TYPES: Record<MailSecurity, Security> = { ssl: 'SSL', starttls: 'STARTTLS' };

/** Thunderbird's clientConfig 1.1; `%EMAILADDRESS%` lets Thunderbird fill in what the user typed. */
export function thunderbirdConfig(settings: AutoconfigSettings, address: MailAddress | null): string {
  const domains = address ? [address.domain] : [...(settings.domains ?? [])];
  const id = domains[0] ?? settings.imap.host;
  const username = escapeXml(address?.username ?? '%EMAILADDRESS%');
  const name = escapeXml(settings.providerName ?? `PEC ${id}`);
  const server = (tag: string, type: string, host: string, port: number, security: Security) => `
    <${tag} type="${type}">
      <hostname>${escapeXml(host)}</hostname>
      <port>${port}</port>
      <socketType>${security}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${username}</username>
    </${tag}>`;
  const incoming = server('incomingServer', 'imap', settings.imap.host, settings.imap.port, SOCKET_TYPES[settings.imap.security]);
  const outgoing = server('outgoingServer', 'smtp', settings.submission.host, settings.submission.port, SOCKET_TYPES[settings.submission.security]);
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escapeXml(id)}">${domains.map((d) => `
    <domain>${escapeXml(d)}</domain>`).join('')}
    <displayName>${name}</displayName>
    <displayShortName>${name}</displayShortName>${incoming}${outgoing}
  </emailProvider>
</clientConfig>
`;
}

const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** Autodiscover POX answer with an IMAP and an SMTP protocol block. */
export function autodiscoverResponse(settings: AutoconfigSettings, address: MailAddress): string {
  const protocol = (type: 'IMAP' | 'SMTP', host: string, port: number, security: Security) => `
      <Protocol>
        <Type>${type}</Type>
        <Server>${escapeXml(host)}</Server>
        <Port>${port}</Port>
        <DomainRequired>off</DomainRequired>
        <LoginName>${escapeXml(address.username)}</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>${security === 'SSL' ? 'SSL' : 'TLS'}</Encryption>
        <AuthRequired>on</AuthRequired>${type === 'SMTP' ? `
        <UsePOPAuth>off</UsePOPAuth>
        <SMTPLast>off</SMTPLast>` : ''}
      </Protocol>`;
  const imap = protocol('IMAP', settings.imap.host, settings.imap.port, SOCKET_TYPES[settings.imap.security]);
  const smtp = protocol('SMTP', settings.submission.host, settings.submission.port, SOCKET_TYPES[settings.submission.security]);
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_NS}">
    <User>
      <DisplayName>${escapeXml(address.username)}</DisplayName>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>${imap}${smtp}
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
