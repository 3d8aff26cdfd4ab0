import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { withoutSecrets } from '../lib/logger';

/** The credentials the mail servers are reached with: SMTP_URL's user and password, the doveadm key. */
export interface MailCredentials {
  smtpUrl?: string;
  doveadmApiKey?: string;
}

/** Cuts every form of the mail credentials (and anything token-like) out of free text. */
export type Redact = (text: string) => string;

/** Base64 and base64url, each with and without its `=` padding. */
function base64Forms(plain: string): string[] {
  const bytes = Buffer.from(plain, 'utf8');
  const padded = bytes.toString('base64');
  const url = bytes.toString('base64url');
  return [padded, padded.replace(/=+$/, ''), url, `${url}${'='.repeat(padded.length - url.length)}`];
}

/** SMTP_URL's user and password as written in it and as sent (percent-decoded); none without userinfo. */
function smtpCredentials(smtpUrl: string): { user: string; pass: string } | null {
  const { auth } = parseConnectionUrl(smtpUrl);
  if (!auth || !('user' in auth)) return null;
  return { user: String(auth.user ?? ''), pass: String(auth.pass ?? '') };
}

/** The user, the password, and what each SASL mechanism sends of them before its base64. */
function smtpForms({ user, pass }: { user: string; pass: string }): string[] {
  return [user, pass, `\0${user}\0${pass}`, `${user}\0${user}\0${pass}`, `${user}\0${pass}`, `user=${user}\x01auth=Bearer ${pass}\x01\x01`];
}

/**
 * Every form in which a server may quote the credentials back: each plain, percent-encoded and as
 * written in SMTP_URL, and base64 (RFC 4648, padded or not, standard or url alphabet) of each and of
 * what the SASL mechanisms send: PLAIN's `\0user\0pass` (RFC 4616) and `user\0user\0pass`, the
 * `user\0pass` variant, LOGIN's user and password one by one, XOAUTH2's `user=…\x01auth=Bearer …\x01\x01`,
 * and doveadm's `X-Dovecot-API <base64 key>`. Longest first, so no form is cut only in part. Empty
 * strings are left out.
 */
export function credentialForms({ smtpUrl, doveadmApiKey }: MailCredentials): string[] {
  const credentials = smtpUrl ? smtpCredentials(smtpUrl) : null;
  const userinfo = smtpUrl?.match(/^[a-z]+:\/\/([^@/]*)@/i)?.[1];
  const sent = credentials ? smtpForms(credentials) : [];
  // A form made of the mechanism's own separators alone (an empty user and password) is no secret.
  const plain = [doveadmApiKey ?? '', ...sent].filter((form) => form.replace(/\0|\x01|user=|auth=Bearer /g, '') !== '');
  const written = userinfo ? [userinfo, ...userinfo.split(':')] : [];
  const forms = [...plain, ...plain.map(encodeURIComponent), ...written, ...plain.flatMap(base64Forms)];
  return [...new Set(forms.filter(Boolean))].sort((a, b) => b.length - a.length);
}

/**
 * The one filter for text a mail server said, before it is stored (the outbox's reasons, hence
 * the owner's pages and the owner's notices), logged, or printed by `check:mail`.
 */
export function redactor(credentials: MailCredentials): Redact {
  const forms = credentialForms(credentials);
  return (text) => withoutSecrets(text, forms);
}
