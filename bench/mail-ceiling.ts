import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { composeMessage } from '../src/mail/compose';
import { buildEmail } from '../src/mail/messages';
import { DEFAULT_WORKER_OPTIONS } from '../src/mail/outbox';
import { senderAddress, smtpPool } from '../src/mail/transport';
import { Child, cpuMsOf, ROOT, untilIdle } from './lib/processes';
import { CountingSink } from './lib/sink';
import { DOMAIN } from './lib/seed';

/*
 * node --import tsx bench/mail-ceiling.ts: the mail stack's own ceiling on this machine, without the
 * outbox. A child process (with the node flags of `npm start`) sends DRAINS (5) drains of EMAILS
 * (1,000) invitations, composed beforehand as the worker composes them (compose.ts), through the
 * worker's pooled nodemailer transport (transport.ts's smtpPool: same pool, same connection options),
 * as many at a time as the worker sends, to the bench's counting SMTP sink in this process: the
 * layout of the bench's mail phase. Prints emails/s (first delivery to last, as the bench counts it)
 * and the child's CPU ms per email for each drain. The outbox's drain costs this plus its own work.
 */
const DRAINS = Number(process.env.DRAINS ?? 5);
const EMAILS = Number(process.env.EMAILS ?? 1000);
const FROM = `no-reply@${DOMAIN}`;

/** The child: composes EMAILS messages, then sends them all at each SIGUSR2, printing `sent` when done. */
async function sender(url: string): Promise<void> {
  const base = 'http://127.0.0.1:3000';
  const config = loadConfig({ BASE_URL: base, NODE_ENV: 'production', SESSION_SECRET: crypto.randomBytes(32).toString('base64url'), SMTP_URL: url, DATA_DIR: os.tmpdir() });
  const messages = await Promise.all(
    Array.from({ length: EMAILS }, async (_, i) => {
      const built = buildEmail({
        template: 'invitation',
        locale: 'it',
        payload: { firstName: 'Mario', lastName: `Rossi ${i}`, username: `mail${i}/owner@${DOMAIN}`, mailbox: `owner@${DOMAIN}`, accessLevel: 'read', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
        link: `${base}/password/${crypto.randomBytes(32).toString('base64url')}`,
        mailServer: config.mailServer,
        signInUrl: `${base}/login`,
      });
      const to = `mail${i}@example.org`;
      const messageId = `<outbox-${i}.${Date.now()}@127.0.0.1>`;
      return { to, messageId, raw: await composeMessage({ ...built, to, fromAddress: senderAddress(FROM), messageId }) };
    }),
  );
  const transporter = smtpPool(url, 30_000);
  const drain = async () => {
    let next = 0;
    const lane = async () => {
      for (let message = messages[next++]; message; message = messages[next++]) await transporter.sendMail({ raw: message.raw, envelope: { from: FROM, to: message.to }, messageId: message.messageId });
    };
    await Promise.all(Array.from({ length: DEFAULT_WORKER_OPTIONS.concurrency }, lane));
    console.log('sent');
  };
  process.on('SIGUSR2', () => void drain().catch((error: unknown) => console.error(error)));
  // Alive between drains (the pool's idle connections do not hold the event loop).
  const alive = setInterval(() => undefined, 60_000);
  process.on('SIGTERM', () => {
    clearInterval(alive);
    transporter.close();
  });
  console.log('ready');
}

async function main(): Promise<void> {
  const sink = await new CountingSink().start();
  // The heap limits production runs with (package.json's `start`).
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const args = scripts.start.match(/--max-[\w-]+=\d+/g) ?? [];
  const child = Child.start('sender', 'bench/mail-ceiling.ts', { SMTP_URL: sink.url, MAIL_CEILING_SENDER: '1', EMAILS: String(EMAILS) }, args);
  try {
    await child.nextLine((line) => line === 'ready', 60_000);
    for (let drain = 1; drain <= DRAINS; drain++) {
      await untilIdle(child.pid);
      const cpuBefore = cpuMsOf(child.pid) as number;
      sink.reset();
      const done = child.nextLine((line) => line === 'sent', 600_000);
      child.signal('SIGUSR2');
      await done;
      const perSecond = Math.round((EMAILS - 1) / ((sink.lastAt - sink.firstAt) / 1000));
      const cpuMs = ((cpuMsOf(child.pid) as number) - cpuBefore) / EMAILS;
      console.log(`drain ${drain}: ${EMAILS} emails, ${perSecond} emails/s, ${cpuMs.toFixed(2)} CPU ms per email (nodemailer's pool alone)`);
    }
  } finally {
    await child.stop();
    await sink.stop();
  }
}

(process.env.MAIL_CEILING_SENDER ? sender(process.env.SMTP_URL as string) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
