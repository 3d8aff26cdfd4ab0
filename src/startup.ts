import http, { type RequestListener } from 'node:http';
import { openDatabase, type Database } from './db';
import { sqliteStorage } from './db/connection';
import { sourceMapped } from './lib/stack';
import type { LogSink } from './lib/logger';

/** A start-up step that failed, in one line that says what failed and with what. */
export class StartupError extends Error {}

/** A database URL fit to print: the file of a SQLite URL, a server URL with its password masked. */
export function printableDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return `sqlite:${sqliteStorage(url)}`;
  if (!URL.canParse(url)) return url.replace(/\/\/[^@/]*@/, '//***@');
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The first line of an error's message (driver errors may run on), never its stack. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.split('\n')[0]?.trim();
  return message || error.name;
}

/**
 * Runs one start-up step; its failure becomes a StartupError reading "<what>: <reason>". `secrets`
 * (e.g. a database password) are cut out of the reason, should a driver repeat them.
 */
export async function startupStep<T>(what: string, work: () => T | Promise<T>, secrets: string[] = []): Promise<T> {
  try {
    return await work();
  } catch (error) {
    let reason = reasonOf(error);
    for (const secret of secrets.filter(Boolean)) reason = reason.split(secret).join('***');
    throw new StartupError(`${what}: ${reason}`, { cause: error });
  }
}

/** The password in a database URL, if any, as it may appear encoded or not. */
function databasePassword(url: string): string[] {
  if (!/^(mysql|mariadb):\/\//.test(url) || !URL.canParse(url)) return [];
  const { password } = new URL(url);
  return password ? [password, decodeURIComponent(password)] : [];
}

/** Opens the database and migrates it, or fails with one line naming it (its password masked). */
export function openDatabaseAtStart(url: string, log?: LogSink): Promise<Database> {
  return startupStep(`cannot open the database ${printableDatabaseUrl(url)}`, () => openDatabase(url, log), databasePassword(url));
}

/** Listens on `port` (all interfaces); a port in use or forbidden fails with one line naming it. */
export function listen(handler: RequestListener, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE' ? 'the port is already in use (another program, or this app already running?)'
        : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
        : reasonOf(error);
      reject(new StartupError(`cannot listen on port ${port}: ${reason}`, { cause: error }));
    });
    server.listen(port, () => resolve(server));
  });
}

/** A failure in one line: a StartupError as it reads, anything else as its type and first line. */
export function oneLine(error: unknown): string {
  return error instanceof StartupError ? error.message : `${error instanceof Error ? error.name : 'Error'}: ${reasonOf(error)}`;
}

/**
 * Reports a failed start on standard error as one line and ends the process with status 1.
 * LOG_LEVEL=debug (or trace) adds the stack, for a developer.
 */
export function exitOnStartupFailure(program: string, error: unknown): never {
  console.error(`${program} did not start: ${oneLine(error)}`);
  if (/^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')) {
    const cause = error instanceof StartupError ? error.cause : error;
    console.error(cause instanceof Error && cause.stack ? sourceMapped(cause.stack) : (cause ?? ''));
  }
  process.exit(1);
}
