/** Plain-fetch clients of the app's HTTP processes, for the suites that run several of them. */

/** Runs `work` over the items with at most `limit` at once. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

/** A cookie jar and the last CSRF token seen, over plain fetch: one person, any app process. */
export class Client {
  private cookies = new Map<string, string>();
  csrf = '';

  /** The jar as a Cookie header, for requests sent another way (a keep-alive agent, say). */
  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(origin: string, path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | null; text: string }> {
    const response = await fetch(origin + path, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader,
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams({ _csrf: this.csrf, ...init.form }).toString() : undefined,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [key, ...value] = (pair as string).split('=');
      this.cookies.set(key as string, value.join('='));
    }
    const text = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1] as string;
    return { status: response.status, location: response.headers.get('location'), text };
  }
}

/**
 * The owner of `mailbox` signed in through the first app process, and found signed in through the
 * second too (the session lives in the database): throws otherwise.
 */
export async function ownerAcross(origins: string[], mailbox: string, password: string): Promise<Client> {
  const owner = new Client();
  await owner.request(origins[0] as string, '/login');
  const signIn = await owner.request(origins[0] as string, '/login', { method: 'POST', form: { username: mailbox, password } });
  if (signIn.status !== 303) throw new Error(`the owner's sign-in answered ${signIn.status}`);
  const list = await owner.request(origins[1] as string, '/settings/collaborations');
  if (list.status !== 200) throw new Error(`the owner's list through the second process answered ${list.status}`);
  return owner;
}

/** The owner's reset of each collaborator, `limit` at once, alternately through each origin: the answers' statuses. */
export function resetEach(owner: Client, origins: string[], ids: number[], limit: number): Promise<number[]> {
  return inParallel(ids, limit, (id, i) =>
    owner.request(origins[i % origins.length] as string, `/settings/collaborations/${id}/password-reset`, { method: 'POST', form: {} }).then((r) => r.status),
  );
}

/** How many times `statuses` holds each status. */
export function tally(statuses: Array<number | string>): Record<string, number> {
  return statuses.reduce<Record<string, number>>((count, s) => ({ ...count, [s]: (count[s] ?? 0) + 1 }), {});
}
