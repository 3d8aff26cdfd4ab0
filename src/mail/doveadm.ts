import { withoutSecrets } from '../lib/logger';

/**
 * Client of Dovecot's doveadm HTTP API: after a reset, a deactivation or a lowered access level the
 * mail server must drop the collaborator's open IMAP/POP3/submission sessions and forget any cached
 * password; after a password is set, forget the cached one (or the cached "unknown user"). Called by
 * the outbox's mail-server lane, which retries on any error thrown here.
 */

/**
 * What the app asks of one Dovecot: `kick` ends every session of the user and flushes its cached
 * password (doveadm `kick` + `auth cache flush`); `flush` only flushes the cache.
 */
export type MailServerCommand = 'kick' | 'flush';

export interface DoveadmSettings {
  /** e.g. http://127.0.0.1:8080/doveadm/v1 (one of DOVEADM_URLS); a bare origin gets /doveadm/v1. */
  url: string;
  /** The doveadm_api_key of Dovecot's configuration (DOVEADM_API_KEY), as is. */
  apiKey: string;
  timeoutMs?: number;
}

export class DoveadmError extends Error {
  constructor(
    message: string,
    /** HTTP status when Dovecot answered, for logs. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DoveadmError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
// doveadm's exit code when `kick` found no session of that user: the goal is already met.
const EX_NOUSER = 68;

type Entry = [type: string, data: unknown, tag: string];

function endpoint(url: string): URL {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/doveadm/v1';
  return parsed;
}

function isEntry(value: unknown): value is Entry {
  return Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && typeof value[2] === 'string';
}

function exitCodeOf(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null || !('exitCode' in data)) return undefined;
  return typeof data.exitCode === 'number' ? data.exitCode : undefined;
}

/** The host and port of a doveadm endpoint, as the owner's page names the server. */
export function serverName(url: string): string {
  return endpoint(url).host;
}

/**
 * Runs `command` for `username` on the one Dovecot at `settings.url` (the API acts only on the server
 * that receives it). Resolves once Dovecot confirmed it; `kick` finding no session (exit code 68) is
 * success. Throws DoveadmError otherwise.
 */
export async function runMailServerCommand(settings: DoveadmSettings, command: MailServerCommand, username: string): Promise<void> {
  // kick takes a mask: a wildcard would end other users' sessions too. Such names cannot log in anyway.
  // The user is always named: authCacheFlush with an empty user list crashes doveadm (no answer at all).
  if (!username || /[*?\s]/.test(username)) throw new DoveadmError(`doveadm: refusing the user mask "${username}"`);

  const entries: Entry[] = [['authCacheFlush', { user: [username] }, 'flush']];
  if (command === 'kick') entries.unshift(['kick', { mask: username }, 'kick']);
  const body = JSON.stringify(entries);
  const authorization = Buffer.from(settings.apiKey, 'utf8').toString('base64');
  // What the server sent back goes into errors, hence logs: never the key, should it be echoed.
  const quote = (raw: string) => withoutSecrets(raw, [settings.apiKey, authorization]).slice(0, 200);
  let response: Response;
  let text: string;
  try {
    response = await fetch(endpoint(settings.url), {
      method: 'POST',
      headers: {
        Authorization: `X-Dovecot-API ${authorization}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(settings.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    // fetch hides the reason (refused, timeout, DNS) in `cause`.
    const cause = error instanceof Error ? error.cause ?? error : error;
    throw new DoveadmError(`doveadm API unreachable: ${quote(cause instanceof Error ? cause.message : String(cause))}`);
  }

  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? ' (check DOVEADM_API_KEY)' : '';
    throw new DoveadmError(`doveadm API answered HTTP ${response.status}${hint}: ${quote(text)}`, response.status);
  }
  let answers: unknown;
  try {
    answers = JSON.parse(text);
  } catch {
    throw new DoveadmError(`doveadm API answered something other than JSON: ${quote(text)}`, response.status);
  }
  if (!Array.isArray(answers) || !answers.every(isEntry)) {
    throw new DoveadmError(`doveadm API answered an unexpected shape: ${quote(text)}`, response.status);
  }

  for (const [, , tag] of entries) {
    const entry = answers.find((e) => e[2] === tag);
    if (!entry) throw new DoveadmError(`doveadm API gave no answer for ${tag}: ${quote(text)}`, response.status);
    const [type, data] = entry;
    if (type === 'doveadmResponse') continue;
    if (type === 'error' && tag === 'kick' && exitCodeOf(data) === EX_NOUSER) continue;
    const hint = JSON.stringify(data).includes('unAuthorized') ? ' (is it in doveadm_allowed_commands?)' : '';
    throw new DoveadmError(`doveadm ${tag} failed${hint}: ${quote(JSON.stringify(data))}`, response.status);
  }
}

/**
 * The HTTP status of a GET of the API root (the list of commands, which runs nothing), with the key
 * when `apiKey` is given: any status shows the server is reachable; 401 with the key means the key is
 * refused. Throws DoveadmError when nothing answered (the reason, never the key).
 */
export async function doveadmStatus(url: string, apiKey?: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
  const authorization = apiKey === undefined ? undefined : Buffer.from(apiKey, 'utf8').toString('base64');
  try {
    const response = await fetch(endpoint(url), {
      headers: { Accept: 'application/json', ...(authorization ? { Authorization: `X-Dovecot-API ${authorization}` } : {}) },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    const cause = error instanceof Error ? error.cause ?? error : error;
    const text = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
    throw new DoveadmError(withoutSecrets(text, [apiKey ?? '', authorization ?? '']).slice(0, 200));
  }
}
