import { Writable } from 'node:stream';
import { createLogger } from '../../src/lib/logger';

export interface LogLine {
  level: number;
  msg: string;
  outbox?: { outboxId: number; template: string; attempt: number; maxAttempts: number; retryAt: string | null; reason: string };
}

/** A pino logger whose lines are kept, parsed and as written, for the test to read. */
export function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines, raw };
}
