/** A minimal browser for setting up loads: one cookie jar, no redirects followed. */
export class Session {
  private cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  get cookie(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; location: string | null }> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(this.baseUrl + path, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }

  /** The CSRF token of the last form a page carried. */
  static csrfIn(html: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!match?.[1]) throw new Error('no CSRF token in the page');
    return match[1];
  }

  /** Signs in through the real form; returns the CSRF token of the signed-in session. */
  async signIn(username: string, password: string): Promise<string> {
    const login = await this.request('/login');
    const answer = await this.request('/login', { method: 'POST', form: { username, password, _csrf: Session.csrfIn(login.body) } });
    if (answer.status !== 303 || answer.location === '/login') throw new Error(`sign-in as ${username} failed: ${answer.status}`);
    const home = await this.request(answer.location ?? '/');
    if (home.status !== 200) throw new Error(`after sign-in ${answer.location} answered ${home.status}`);
    return Session.csrfIn(home.body);
  }
}

/** Runs jobs with at most `limit` at a time. */
export async function inParallel<T, R>(items: T[], limit: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
