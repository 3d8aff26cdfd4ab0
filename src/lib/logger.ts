import pino, { type DestinationStream, type Logger } from 'pino';
import { sourceMapped } from './stack';

/**
 * An error as logged: what and where, never its data. Database errors carry the SQL and its
 * parameters (password hashes, sealed links), mail errors the conversation: those stay out.
 */
function errorSummary(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, status } = error as { code?: unknown; status?: unknown };
  return { type: error.constructor.name, message: error.message, code, status, stack: error.stack && sourceMapped(error.stack) };
}

/**
 * What the app writes its log lines to: a pino logger, or a host's own logger with these three
 * methods. `fields` is an object of values (an error as `err`), `message` a fixed sentence.
 */
export interface LogSink {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Link tokens and other keys look like this: long base64url runs. */
const TOKEN_LIKE = /[A-Za-z0-9_-]{32,}/g;

/** A request path fit for a log line: link tokens (long base64url runs) are cut out. */
export function loggablePath(path: string): string {
  return path.replace(TOKEN_LIKE, ':redacted');
}

/** Free text (an SMTP server's reply, say) fit for a log line: `secrets` and anything token-like cut out. */
export function withoutSecrets(text: string, secrets: readonly string[] = []): string {
  let clean = text;
  for (const secret of secrets) if (secret) clean = clean.split(secret).join(':redacted');
  return clean.replace(TOKEN_LIKE, ':redacted');
}

/** JSON logs; anything that could be a secret is removed before a line is written. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    serializers: { err: errorSummary, error: errorSummary },
    redact: {
      paths: [
        'password',
        '*.password',
        '*.passwordConfirmation',
        '*.currentPassword',
        '*.passwordHash',
        'token',
        '*.token',
        'secret',
        '*.secret',
        'req.headers.cookie',
        'req.headers.authorization',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
      ],
      remove: true,
    },
  }, destination);
}
