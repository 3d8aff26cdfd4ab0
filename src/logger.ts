import pino, { type Logger } from 'pino';

/** JSON logs; anything that could be a secret is removed before a line is written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
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
  });
}
