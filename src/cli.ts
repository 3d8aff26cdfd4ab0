import { loadConfig, type Config } from './config';
import { createDomain } from './domain';
import { systemClock } from './lib/clock';
import { ValidationFailed } from './domain/errors';
import { MAX_PASSWORD_BYTES } from './domain/passwords';
import { DEFAULT_LOCALE, isLocale, translator, type Locale } from './i18n';
import { createLogger } from './lib/logger';
import { devOutboxFolder, outboxDeliverer, transportFor } from './mail/transport';
import { checkDoveadm, checkSmtp, type CheckLine } from './mail/check';
import { startWorker } from './mail/worker';
import { oneLine, openDatabaseAtStart, startupStep } from './startup';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The operator's language, from the POSIX locale variables (`it_IT.UTF-8` → it); Italian otherwise. */
function operatorLocale(env = process.env): Locale {
  const language = (env.LC_ALL || env.LC_MESSAGES || env.LANG || '').slice(0, 2).toLowerCase();
  return isLocale(language) ? language : DEFAULT_LOCALE;
}

/** The refusal's reasons, as the web forms word them. */
function refusal(error: ValidationFailed, minLength: number): string {
  const t = translator(operatorLocale());
  return Object.values(error.errors)
    .map((key) => t(key.includes('.') ? key : `errors.${key}`, { min: minLength, max: MAX_PASSWORD_BYTES }))
    .join(' ');
}

const USAGE = `usage:
  npm run mailbox:create -- <address>   (password on standard input)
  npm run migrate
  npm run worker                        (outbox delivery, alone)
  npm run check:mail -- <address>       (a test email through SMTP_URL, and each of DOVEADM_URLS)`;

/**
 * `check:mail`: a test email to `address` through SMTP_URL and each doveadm endpoint, one line a
 * step in the operator's language, no secret in any. 0 when every step passed, 1 otherwise.
 */
async function checkMail(config: Config, address: string): Promise<number> {
  const t = translator(operatorLocale());
  const lines: CheckLine[] = [];
  const say = (more: CheckLine[]) => {
    more.forEach((line) => console.log(line.text));
    lines.push(...more);
  };
  if (config.smtpUrl) say(await checkSmtp(config.smtpUrl, config.mailFrom, address, t, config.smtpTimeoutMs));
  else say([{ ok: true, text: t('check.fileOutbox', { folder: devOutboxFolder(config) }) }]);
  const { doveadmUrls, doveadmApiKey = '' } = config.mailServer;
  if (doveadmUrls.length > 0) say(await checkDoveadm(doveadmUrls, doveadmApiKey, t));
  else say([{ ok: true, text: t('check.noDoveadm') }]);
  const passed = lines.every((line) => line.ok);
  console.log(t(passed ? 'check.passed' : 'check.failed'));
  return passed ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = await startupStep('configuration', () => loadConfig());
  // The mail path needs no database: the check runs even while it is down.
  if (command === 'check:mail') {
    if (args[0]) return checkMail(config, args[0]);
    console.error(USAGE);
    return 2;
  }
  const logger = createLogger(config.logLevel);
  const db = await openDatabaseAtStart(config.databaseUrl, logger);
  const domain = createDomain(db, config, systemClock);
  switch (command) {
    case 'migrate':
      console.log('database is up to date');
      return 0;
    case 'mailbox:create': {
      const address = args[0];
      if (!address) {
        console.error(USAGE);
        return 2;
      }
      try {
        const mailbox = await domain.accounts.createMailbox(address, await readStdin());
        console.log(`mailbox ${mailbox.address} created`);
        return 0;
      } catch (error) {
        if (error instanceof ValidationFailed) {
          console.error(`refused: ${refusal(error, config.passwordMinLength)}`);
          return 1;
        }
        throw error;
      }
    }
    case 'worker': {
      const worker = startWorker(domain.outbox, outboxDeliverer(config, transportFor(config)), logger, undefined, domain.scheduled);
      logger.info('outbox worker running');
      // The worker's own timer does not hold a process open (it also runs inside the web server):
      // without this, an idle worker on its own would exit as soon as its database sockets go idle.
      const alive = setInterval(() => undefined, 3_600_000);
      await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
      clearInterval(alive);
      await worker.stop();
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(oneLine(error));
    process.exit(1);
  });
