import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import * as base64 from 'nodemailer/lib/base64';
import * as qp from 'nodemailer/lib/qp';

/** What one email is made of: the From address with its display name, one recipient, both bodies. */
export interface MessageFields {
  fromName: string;
  fromAddress: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With its angle brackets, e.g. `<outbox-7.1767225600000@example.it>`. */
  messageId: string;
}

/** Encoded lines of a body are at most this long (RFC 2045 §6.7, §6.8), as nodemailer writes them. */
const LINE_LENGTH = 76;
/**
 * nodemailer's quoted-printable encoder places its soft line breaks slice by slice, 64 KiB at a time
 * (ENCODE_SLICE_SIZE in nodemailer/lib/qp): a longer body (a digest of hundreds of notices) is left
 * to its own streaming build, so the bytes stay its bytes.
 */
const ONE_SLICE = 64 * 1024;

/**
 * The message (RFC 5322, CRLF line ends) exactly as nodemailer's MailComposer builds it — its MIME
 * tree, headers (quoting, RFC 2047 words, folding), boundaries and transfer encodings — but written
 * out in one synchronous walk of the compiled tree. nodemailer's own `build()` streams each node
 * through a pipeline of Transform streams with a turn of the event loop per node, which cost an
 * email more CPU than everything else its sending does; the bytes are the same (test/unit/compose.test.ts
 * compares them for every email). Bodies are the strings buildEmail makes, so no node reads a file
 * or a URL.
 */
export async function composeMessage(fields: MessageFields): Promise<Buffer> {
  const tree = mimeTree(fields);
  if (Buffer.byteLength(fields.text) <= ONE_SLICE && Buffer.byteLength(fields.html) <= ONE_SLICE) return messageBytes(tree);
  return new Promise((resolve, reject) => tree.build((error, message) => (error ? reject(error) : resolve(message))));
}

/** nodemailer's MIME tree of the email, as its sendMail would compose it. */
export function mimeTree(fields: MessageFields): MimeNode {
  return new MailComposer({
    from: { name: fields.fromName, address: fields.fromAddress },
    to: fields.to,
    subject: fields.subject,
    text: fields.text,
    html: fields.html,
    messageId: fields.messageId,
  }).compile();
}

/** The bytes of a compiled tree of text nodes of at most 64 KiB each, as MimeNode's `build()` gives them; throws on other content. */
export function messageBytes(root: MimeNode): Buffer {
  const parts: string[] = [];
  writeNode(root, parts);
  const message = parts.join('');
  // nodemailer ends every message with a line break (its LastNewline stage).
  const end = message.endsWith('\n') ? '' : message.endsWith('\r') ? '\n' : '\r\n';
  return Buffer.from(message + end, 'utf8');
}

/** Appends one node and its children to `parts`, in the order and with the separators of MimeNode.stream. */
function writeNode(node: MimeNode, parts: string[]): void {
  const encoding = node.getTransferEncoding();
  // Its choice between quoted-printable and base64 scans the whole body, and buildHeaders asks for it
  // again: told the answer, it scans no more. Only a part's: its headers have no text to encode with
  // that choice, while a root's (Subject, From) are encoded word by word.
  if (node.parentNode && (encoding === 'quoted-printable' || encoding === 'base64')) node.textEncoding = encoding === 'base64' ? 'B' : 'Q';
  parts.push(`${node.buildHeaders()}\r\n\r\n`);
  const { content } = node;
  if (content !== undefined && content !== '') {
    if (typeof content !== 'string') throw new Error('composeMessage: only text bodies are composed here');
    if (encoding === 'quoted-printable') parts.push(quotedPrintable(content));
    else if (encoding === 'base64') parts.push(base64.wrap(base64.encode(content), LINE_LENGTH));
    else parts.push(content);
  }
  if (!node.multipart) return;
  node.childNodes.forEach((child, i) => {
    parts.push(`${i > 0 ? '\r\n' : ''}--${node.boundary}\r\n`);
    writeNode(child, parts);
  });
  parts.push(`\r\n--${node.boundary}--\r\n`);
}

/**
 * `text` quoted-printable, as nodemailer's qp.Encoder writes it when given it whole: the spaces and
 * tabs it ends with are held back (whitespace that ends a line is encoded, and the Encoder cannot know
 * yet whether more follows), then encoded at its end and wrapped with the last line of the rest. One
 * wrap of the whole would break that last line elsewhere: the same text, other bytes.
 */
function quotedPrintable(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end -= 1;
  const wrapped = qp.wrap(qp.encode(text.slice(0, end)), LINE_LENGTH);
  if (end === text.length) return wrapped;
  const lastLine = wrapped.lastIndexOf('\n') + 1;
  return wrapped.slice(0, lastLine) + qp.wrap(wrapped.slice(lastLine) + qp.encode(text.slice(end)), LINE_LENGTH);
}
