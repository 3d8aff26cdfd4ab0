import type { Locale } from '../i18n';
import { formatDateTime } from '../i18n/dates';
import { OWNER_NOTICE_EVENTS } from '../models/owner-notice';
import type { BuiltEmail, EmailInput, NoticeLine } from './message-types';
import { enTexts, type MailTexts } from './texts/en';
import { esTexts } from './texts/es';
import { itTexts } from './texts/it';
import { breakableHtml, fitText } from '../lib/text';
import { mailSetup, SECURITY_LABELS } from './mail-setup';

const TEXTS: Record<Locale, MailTexts> = { it: itTexts, en: enTexts, es: esTexts };

type Vars = Readonly<Record<string, string>>;

/** A text with `{placeholders}` and the values that fill them: plain text fills them as they are, HTML escapes them and lets them wrap. */
interface Line {
  template: string;
  vars: Vars;
}

/** The message as a list of parts, rendered once as plain text and once as HTML. */
type Block =
  | { kind: 'paragraph'; line: Line }
  | { kind: 'action'; label: string; url: string; fallback: string }
  | { kind: 'link'; text: string; url: string }
  | { kind: 'section'; heading: string; intro: string; items: Line[] }
  | { kind: 'entries'; heading: string; items: Array<{ line: Line; label: string; url: string }> }
  | { kind: 'footer'; line: Line };

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** CR/LF and other control characters become a space: no header injection, no forged lines. */
function collapseControls(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/**
 * Builds one email (From name, subject, plain text, HTML) in the recipient's language. Pure.
 * Only invitation, owner_reset, self_reset, notice_address (they throw without it or a valid `payload.expiresAt`) and
 * access_end_reminder (without it or `payload.accessEndsAt`) show `input.link`; notices ignore it.
 */
export function buildEmail(input: EmailInput): BuiltEmail {
  const t = TEXTS[input.locale];
  const { payload } = input;
  const ownerName = clean(payload.ownerName ?? '');
  const mailboxVars = { owner: ownerName || clean(payload.mailbox), mailbox: clean(payload.mailbox) };
  const vars: Vars = {
    name: clean(`${payload.firstName} ${payload.lastName}`),
    ...mailboxVars,
    // Who acted, as a sentence opens: the owner by name and mailbox, or (no name known) by the mailbox alone.
    actor: fill(ownerName ? t.common.namedOwner : t.common.unnamedOwner, mailboxVars),
    username: clean(payload.username),
    ...(payload.accessLevel ? { accessLevel: t.accessLevels[payload.accessLevel] } : {}),
    ...(payload.identityProvider ? { provider: clean(payload.identityProvider) } : {}),
    timeZone: t.timeZoneName,
  };
  const owner = payload.audience === 'owner';
  const [first] = payload.notices ?? [];
  const subject: Line = { template: t[input.template].subject, vars: first ? { ...vars, event: t.notices.events[first.event], collaborator: clean(first.name) } : vars };
  const blocks: Block[] = [
    paragraph(t.common.greeting, vars),
    ...bodyBlocks(input, t, vars),
    { kind: 'footer', line: { template: owner ? t.common.ownerFooter : t.common.footer, vars } },
  ];
  return {
    fromName: fill(t.common.fromName, vars),
    subject: plain(subject),
    text: renderText(blocks),
    html: renderHtml(input.locale, subject, blocks),
  };
}

function paragraph(template: string, vars: Vars): Block {
  return { kind: 'paragraph', line: { template, vars } };
}

function bodyBlocks(input: EmailInput, t: MailTexts, vars: Vars): Block[] {
  const p = (text: string): Block => paragraph(text, vars);
  const mailClients = input.payload.accessLevel === 'mail_clients';
  const notYou = (s: { notYou: string; ownerNotYou: string }) => p(input.payload.audience === 'owner' ? s.ownerNotYou : s.notYou);
  switch (input.template) {
    case 'invitation': {
      const s = t.invitation;
      const until = input.payload.accessEndsAt ? [paragraph(s.until, { ...vars, endsAt: formatDate(input.payload.accessEndsAt, t.dateLocale) })] : [];
      return [p(s.intro), p(s.username), ...until, p(s.instruction), ...linkBlocks(input, t, vars, s.action), p(s.ignore)];
    }
    case 'owner_reset': {
      const s = t.owner_reset;
      return [p(s.intro), p(s.effect), ...linkBlocks(input, t, vars, s.action), ...(mailClients ? [p(s.mailClients)] : [])];
    }
    case 'self_reset': {
      const s = t.self_reset;
      return [p(s.intro), p(s.instruction), ...linkBlocks(input, t, vars, s.action), p(s.ignore)];
    }
    case 'password_set': {
      const s = t.password_set;
      return [p(s.intro), signIn(input, t), ...mailClientBlocks(input, t, vars), p(s.notYou)];
    }
    case 'password_changed': {
      const s = t.password_changed;
      return [p(s.intro), p(s.sessions), signIn(input, t), ...mailClientBlocks(input, t, vars), p(s.notYou)];
    }
    case 'deactivated': {
      const s = t.deactivated;
      return [p(s.intro), p(s.effect), p(s.contact)];
    }
    case 'two_step_enabled': {
      const s = t.two_step_enabled;
      return [p(s.intro), p(s.sessions), ...(mailClients ? [p(s.mailClients)] : []), notYou(s)];
    }
    case 'two_step_disabled': {
      const s = t.two_step_disabled;
      return [p(s.intro), notYou(s)];
    }
    case 'two_step_changed': {
      const s = t.two_step_changed;
      return [p(s.intro), notYou(s)];
    }
    case 'recovery_code_used': {
      const s = t.recovery_code_used;
      return [p(s.intro), p(s.advice), notYou(s)];
    }
    case 'access_ended': {
      const s = t.access_ended;
      return [paragraph(s.intro, { ...vars, endsAt: formatDate(input.payload.accessEndsAt, t.dateLocale) }), p(s.effect), p(s.contact)];
    }
    case 'access_end_reminder': {
      const s = t.access_end_reminder;
      if (input.link === undefined) throw new Error('The access_end_reminder email needs its link');
      const about = { ...vars, collaborator: clean(input.payload.collaborator ?? ''), endsAt: formatDate(input.payload.accessEndsAt, t.dateLocale) };
      return [paragraph(s.intro, about), p(s.effect), { kind: 'action', label: s.action, url: checkUrl(input.link), fallback: t.common.linkFallback }, p(s.nothing)];
    }
    case 'app_password_created': {
      const s = t.app_password_created;
      const created = input.payload.appPassword;
      if (!created) throw new Error('The app_password_created email needs the app password');
      const intro = paragraph(s.intro, { ...vars, appPasswordName: clean(created.name), createdAt: formatDate(created.createdAt, t.dateLocale) });
      return [intro, p(s.effect), signIn(input, t), p(s.notYou)];
    }
    case 'identity_linked': {
      const s = t.identity_linked;
      if (!input.payload.identityProvider) throw new Error('The identity_linked email needs the provider');
      return [p(s.intro), p(s.effect), notYou(s)];
    }
    case 'owner_notice': {
      const [notice] = noticesOf(input);
      return [
        ...notice.map((line) => ({ kind: 'paragraph', line }) as const),
        { kind: 'link', text: t.owner_notice.action, url: checkUrl(notice.url) },
        p(t.notices.settings),
      ];
    }
    case 'owner_digest':
      return [p(t.owner_digest.intro), ...digestSections(input, t), p(t.notices.settings)];
    case 'notice_address': {
      const s = t.notice_address;
      return [p(s.intro), p(s.effect), ...linkBlocks(input, t, vars, s.action), p(s.ignore)];
    }
  }
}

/** The lines of each notice (what, to whom, when; then its detail), with its link. */
function noticesOf(input: EmailInput): Array<Line[] & { url: string }> {
  const t = TEXTS[input.locale];
  const notices = input.payload.notices ?? [];
  if (notices.length === 0) throw new Error(`The ${input.template} email needs its notices`);
  return notices.map((notice: NoticeLine) => {
    const vars = { collaborator: clean(notice.name), username: clean(notice.username), at: formatDate(notice.at, t.dateLocale), timeZone: t.timeZoneName };
    const lines: Line[] = [{ template: t.notices.lines[notice.event], vars }];
    if (notice.detail) lines.push({ template: t.notices.detail, vars: { detail: clean(notice.detail) } });
    return Object.assign(lines, { url: notice.url });
  });
}

/** A digest's notices grouped by kind of event, in the order of OWNER_NOTICE_EVENTS (what asks for action first). */
function digestSections(input: EmailInput, t: MailTexts): Block[] {
  const built = noticesOf(input);
  const notices = input.payload.notices ?? [];
  return OWNER_NOTICE_EVENTS.flatMap((event): Block[] => {
    const items = built.filter((_, i) => notices[i]?.event === event);
    if (items.length === 0) return [];
    const entries = items.map((lines) => ({ line: joined(lines), label: t.owner_digest.open, url: checkUrl(lines.url) }));
    return [{ kind: 'entries', heading: `${t.notices.events[event]} (${items.length})`, items: entries }];
  });
}

/** Several lines as one, for a list item. */
function joined(lines: Line[]): Line {
  const vars = Object.assign({}, ...lines.map((line) => line.vars)) as Vars;
  return { template: lines.map((line) => line.template).join(' '), vars };
}

function linkBlocks(input: EmailInput, t: MailTexts, vars: Vars, label: string): Block[] {
  if (input.link === undefined) throw new Error(`The ${input.template} email needs a link`);
  const expiresAt = formatDate(input.payload.expiresAt, t.dateLocale);
  return [
    { kind: 'action', label, url: checkUrl(input.link), fallback: t.common.linkFallback },
    paragraph(t.common.linkExpiry, { ...vars, expiresAt }),
  ];
}

function signIn(input: EmailInput, t: MailTexts): Block {
  return { kind: 'link', text: t.common.signIn, url: checkUrl(input.signInUrl) };
}

/** What to type in a mail program (mail-setup.ts), one line per field; for mail_clients only. */
function mailClientBlocks(input: EmailInput, t: MailTexts, vars: Vars): Block[] {
  if (input.payload.accessLevel !== 'mail_clients') return [];
  const m = t.mailClients;
  const setup = mailSetup(input.mailServer, { mailbox: input.payload.mailbox, login: input.payload.username });
  const server = ({ host, port, security }: { host: string; port: number; security: keyof typeof SECURITY_LABELS }): Vars =>
    ({ host: clean(host), port: String(port), security: SECURITY_LABELS[security] });
  return [
    {
      kind: 'section',
      heading: m.heading,
      intro: m.intro,
      items: [
        { template: m.address, vars: { ...vars, address: clean(setup.address) } },
        { template: m.login, vars: { ...vars, login: clean(setup.login) } },
        { template: m.password, vars },
        { template: m.imap, vars: server(setup.imap) },
        { template: m.pop3, vars: server(setup.pop3) },
        { template: m.smtp, vars: server(setup.submission) },
      ],
    },
  ];
}

/**
 * Replaces `{name}` placeholders; an unknown one is a bug in the texts, so it throws. `literal` and
 * `value` encode the template's own text and the values (HTML: escaped, values breakable).
 */
function fill(template: string, vars: Vars, literal = (text: string) => text, value = (text: string) => text): string {
  return template
    .split(/(\{\w+\})/)
    .map((part, i) => {
      if (i % 2 === 0) return literal(part);
      const filled = vars[part.slice(1, -1)];
      if (filled === undefined) throw new Error(`Unknown placeholder ${part} in email text`);
      return value(filled);
    })
    .join('');
}

function plain(line: Line): string {
  return fill(line.template, line.vars);
}

/** A line as HTML: usernames and addresses may wrap after "/", "@" or "." on a narrow screen, and only there. */
function html(line: Line): string {
  return fill(line.template, line.vars, escapeHtml, breakableHtml);
}

/** One line of text from the data: controls collapsed, and nothing a header may not hold. */
function clean(value: string): string {
  return fitText(collapseControls(value)).replace(/ {2,}/g, ' ').trim();
}

/** A time in a sentence (a link's expiry…): Italian time with its UTC offset, never ambiguous (see formatDateTime). */
function formatDate(iso: string | undefined, locale: string): string {
  const date = new Date(iso ?? NaN);
  if (Number.isNaN(date.getTime())) throw new Error('An email needs a valid date here');
  return formatDateTime(locale, date, 'long');
}

/** Links come from configuration, but a non-http(s) URL in an href would still be a hole. */
function checkUrl(url: string): string {
  const { protocol } = new URL(url);
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`Refusing a ${protocol} URL in an email`);
  return url;
}

function renderText(blocks: Block[]): string {
  const parts = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return plain(block.line);
      case 'action':
        return `${block.label}:\n${block.url}`;
      case 'link':
        return `${block.text}\n${block.url}`;
      case 'section':
        return [block.heading, block.intro, ...block.items.map((item) => `- ${plain(item)}`)].join('\n');
      case 'entries':
        return [block.heading, ...block.items.map((item) => `- ${plain(item.line)}\n  ${item.url}`)].join('\n');
      case 'footer':
        return `-- \n${plain(block.line)}`;
    }
  });
  return `${parts.join('\n\n')}\n`;
}

const STYLE = {
  body: 'margin:0;padding:0;background-color:#f3f4f6;',
  main: 'max-width:600px;margin:0 auto;padding:24px;background-color:#ffffff;color:#1f2937;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;',
  h1: 'margin:0 0 16px;font-size:20px;line-height:1.3;color:#111827;',
  p: 'margin:0 0 16px;',
  button: 'display:inline-block;padding:12px 20px;background-color:#0b5394;color:#ffffff;font-weight:bold;text-decoration:none;border-radius:4px;',
  small: 'margin:0 0 16px;font-size:14px;color:#4b5563;',
  url: 'color:#0b5394;word-break:break-all;',
  h2: 'margin:24px 0 8px;font-size:17px;color:#111827;',
  ul: 'margin:0 0 16px;padding-left:20px;',
  // A server's reply may hold a long address or token with no break opportunity.
  entry: 'margin:0 0 8px;overflow-wrap:anywhere;word-break:break-word;',
  footer: 'margin:24px 0 0;padding-top:16px;border-top:1px solid #e5e7eb;font-size:13px;color:#6b7280;',
} as const;

function renderHtml(locale: Locale, subject: Line, blocks: Block[]): string {
  const title = escapeHtml(plain(subject));
  return [
    '<!DOCTYPE html>',
    `<html lang="${locale}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    '</head>',
    `<body style="${STYLE.body}">`,
    `<div role="article" aria-label="${title}" style="${STYLE.main}">`,
    `<h1 style="${STYLE.h1}">${html(subject)}</h1>`,
    ...blocks.map(renderHtmlBlock),
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderHtmlBlock(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p style="${STYLE.p}">${html(block.line)}</p>`;
    case 'action': {
      const href = escapeHtml(block.url);
      return [
        `<p style="${STYLE.p}"><a href="${href}" style="${STYLE.button}">${escapeHtml(block.label)}</a></p>`,
        `<p style="${STYLE.small}">${escapeHtml(block.fallback)}<br><a href="${href}" style="${STYLE.url}">${href}</a></p>`,
      ].join('\n');
    }
    case 'link': {
      const href = escapeHtml(block.url);
      return `<p style="${STYLE.p}">${escapeHtml(block.text)}<br><a href="${href}" style="${STYLE.url}">${href}</a></p>`;
    }
    case 'section':
      return [
        `<h2 style="${STYLE.h2}">${escapeHtml(block.heading)}</h2>`,
        `<p style="${STYLE.p}">${escapeHtml(block.intro)}</p>`,
        `<ul style="${STYLE.ul}">`,
        ...block.items.map((item) => `<li>${html(item)}</li>`),
        '</ul>',
      ].join('\n');
    case 'entries':
      return [
        `<h2 style="${STYLE.h2}">${escapeHtml(block.heading)}</h2>`,
        `<ul style="${STYLE.ul}">`,
        ...block.items.map((item) => `<li style="${STYLE.entry}">${html(item.line)} <a href="${escapeHtml(item.url)}" style="${STYLE.url}">${escapeHtml(item.label)}</a></li>`),
        '</ul>',
      ].join('\n');
    case 'footer':
      return `<p style="${STYLE.footer}">${html(block.line)}</p>`;
  }
}
