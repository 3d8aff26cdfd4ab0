/**
 * A mail program that does exactly what it is told, as a child process: Python's imaplib, poplib and
 * smtplib, connecting with implicit TLS (`ssl`) or upgrading with STARTTLS (`starttls`) as the
 * document under test states, trusting only the test server's certificate. A security that does not
 * match the port fails the connection, as it would in Thunderbird or Outlook.
 */
import { execFile } from 'node:child_process';
import type { MailSecurity } from '../../src/config';

export interface ProgramSession {
  protocol: 'imap' | 'pop3' | 'smtp';
  host: string;
  port: number;
  security: MailSecurity;
  login: string;
  password: string;
  caFile: string;
  /** smtp only: the address typed in the program, written as From and used as MAIL FROM. */
  from?: string;
  to?: string;
  subject?: string;
}

const SCRIPT = String.raw`
import json, ssl, sys, imaplib, poplib, smtplib
s = json.load(sys.stdin)
context = ssl.create_default_context(cafile=s['caFile'])
host, port, implicit = s['host'], s['port'], s['security'] == 'ssl'
if s['protocol'] == 'imap':
    c = imaplib.IMAP4_SSL(host, port, ssl_context=context) if implicit else imaplib.IMAP4(host, port)
    if not implicit: c.starttls(ssl_context=context)
    c.login(s['login'], s['password'])
    typ, data = c.select('INBOX')
    print('imap', typ, data[0].decode())
    c.logout()
elif s['protocol'] == 'pop3':
    c = poplib.POP3_SSL(host, port, context=context) if implicit else poplib.POP3(host, port)
    if not implicit: c.stls(context=context)
    c.user(s['login'])
    c.pass_(s['password'])
    print('pop3', c.stat())
    c.quit()
else:
    c = smtplib.SMTP_SSL(host, port, context=context) if implicit else smtplib.SMTP(host, port)
    c.ehlo()
    if not implicit:
        c.starttls(context=context)
        c.ehlo()
    c.login(s['login'], s['password'])
    message = 'From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nSent as the account page says.\r\n' % (s['from'], s['to'], s['subject'])
    print('smtp', c.sendmail(s['from'], [s['to']], message))
    c.quit()
`;

/** Runs one session; resolves with what the client printed, rejects with Python's error. */
export function runMailProgram(session: ProgramSession): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', SCRIPT], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${session.protocol} ${session.security} ${session.host}:${session.port} as ${session.login}: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
    child.stdin?.end(JSON.stringify(session));
  });
}
