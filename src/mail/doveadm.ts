/**
 * Client of Dovecot's doveadm HTTP API: after a reset, a deactivation or a lowered access level the
 * mail server must drop the collaborator's open IMAP/submission sessions and forget any cached
 * password. Called by the outbox worker, which retries on any error thrown here.
 */

export interface DoveadmSettings {
  /** e.g. http://127.0.0.1:8080/doveadm/v1 (DOVEADM_URL); a bare origin gets /doveadm/v1. */
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

/** Ends every session of `username` on the mail server and flushes its cached password. */
export async function kickAndFlush(settings: DoveadmSettings, username: string): Promise<void> {
  // kick takes a mask: a wildcard would end other users' sessions too. Such names cannot log in anyway.
  if (!username || /[*?\s]/.test(username)) throw new DoveadmError(`doveadm: refusing to kick the mask "${username}"`);

  const body = JSON.stringify([
    ['kick', { mask: username }, 'kick'],
    ['authCacheFlush', { user: [username] }, 'flush'],
  ]);
  let response: Response;
  let text: string;
  try {
    response = await fetch(endpoint(settings.url), {
      method: 'POST',
      headers: {
        Authorization: `X-Dovecot-API ${Buffer.from(settings.apiKey, 'utf8').toString('base64')}`,
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
    throw new DoveadmError(`doveadm API unreachable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }

  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? ' (check DOVEADM_API_KEY)' : '';
    throw new DoveadmError(`doveadm API answered HTTP ${response.status}${hint}: ${text.slice(0, 200)}`, response.status);
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw new DoveadmError(`doveadm API answered something other than JSON: ${text.slice(0, 200)}`, response.status);
  }
  if (!Array.isArray(entries) || !entries.every(isEntry)) {
    throw new DoveadmError(`doveadm API answered an unexpected shape: ${text.slice(0, 200)}`, response.status);
  }

  for (const tag of ['kick', 'flush']) {
    const entry = entries.find((e) => e[2] === tag);
    if (!entry) throw new DoveadmError(`doveadm API gave no answer for ${tag}: ${text.slice(0, 200)}`, response.status);
    const [type, data] = entry;
    if (type === 'doveadmResponse') continue;
    if (type === 'error' && tag === 'kick' && exitCodeOf(data) === EX_NOUSER) continue;
    const hint = JSON.stringify(data).includes('unAuthorized') ? ' (is it in doveadm_allowed_commands?)' : '';
    throw new DoveadmError(`doveadm ${tag} failed${hint}: ${JSON.stringify(data)}`, response.status);
  }
}
