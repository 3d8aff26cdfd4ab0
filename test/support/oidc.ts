import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** What the provider says of the person who signs in there: their claims and how they signed in. */
export interface ProviderAccount {
  email?: string;
  /** RFC 8176 methods, e.g. ['pwd', 'mfa']: put in the ID token's `amr`. */
  amr?: string[];
  acr?: string;
}

export const CLIENT_ID = 'webmail-client';
export const CLIENT_SECRET = 'a client secret of the tests, long enough';

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A real OpenID Connect provider (the certified `oidc-provider` package) on 127.0.0.1, with one client
 * (CLIENT_ID, CLIENT_SECRET, the redirect URIs given) and the accounts the test registers. Its
 * interaction is a login page of our own: a form naming the account (`login`), prefilled with
 * `nextLogin`; what the provider then puts in the ID token (`amr`, `acr`, `email`) is the account's.
 * Consent is taken as given (a first-party client).
 */
export class TestProvider {
  readonly accounts = new Map<string, ProviderAccount>();
  /** The account the login page offers (the test's "user" at the provider). */
  nextLogin = '';

  private constructor(
    readonly issuer: string,
    private readonly server: http.Server,
  ) {}

  static async start(redirectUris: string[]): Promise<TestProvider> {
    const { default: Provider } = await import('oidc-provider');
    const server = http.createServer();
    const issuer = await listen(server);
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
    let self: TestProvider | undefined;
    const provider = new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: redirectUris, response_types: ['code'], grant_types: ['authorization_code'] }],
      jwks: { keys: [jwk] },
      cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
      // As Entra ID does: how the person signed in (`amr`, `acr`) and their email are always in the ID token.
      claims: { openid: ['sub', 'acr', 'amr', 'email', 'email_verified'], email: ['email', 'email_verified'] },
      acrValues: ['urn:test:mfa', 'urn:test:password'],
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => {
        const account = self?.accounts.get(sub);
        return account ? { accountId: sub, claims: () => ({ sub, ...(account.email ? { email: account.email, email_verified: true } : {}) }) } : undefined;
      },
      // A first-party client: the scopes it asks for are granted without a consent page.
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid email');
        await grant.save();
        return grant;
      },
    });
    const handler = provider.callback();
    self = new TestProvider(issuer, server);
    const test = self;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname);
      if (!match) return handler(req, res);
      void test.interact(provider, req, res, match[1] as string, Boolean(match[2])).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    return self;
  }

  /** The login page, and its answer: the account named signs in with the `amr` and `acr` it has here. */
  private async interact(provider: InstanceType<typeof import('oidc-provider').default>, req: IncomingMessage, res: ServerResponse, uid: string, submitted: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction of another browser');
    if (!submitted) {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Test provider</title></head>
<body><main><h1>Test provider</h1><form method="post" action="/interaction/${uid}/login">
<label for="login">Account</label> <input id="login" name="login" value="${escapeHtml(this.nextLogin)}">
<button type="submit" id="provider-continue">Continue</button></form></main></body></html>`);
      return;
    }
    const login = (await bodyOf(req)).get('login') ?? '';
    const account = this.accounts.get(login);
    if (!account) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'no such account' }, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login, ...(account.amr ? { amr: account.amr } : {}), ...(account.acr ? { acr: account.acr } : {}) } }, { mergeWithLastSubmission: false });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A small hand-made provider whose token endpoint signs, with a key its discovery document serves,
 * an ID token with whatever claims `tamper` makes of the right ones: a real signed token with a wrong
 * issuer, audience, nonce or expiry. Its authorization endpoint answers at once for `subject`.
 * `tokenEndpointDown`: the token endpoint drops the connection (a provider down after discovery).
 */
export class ForgingProvider {
  subject = 'forged-subject';
  tamper: (claims: Record<string, unknown>) => Record<string, unknown> = (claims) => claims;
  tokenEndpointDown = false;
  private readonly codes = new Map<string, { nonce: string; challenge: string }>();

  private constructor(
    readonly issuer: string,
    private readonly server: http.Server,
    private readonly key: crypto.KeyObject,
  ) {}

  static async start(): Promise<ForgingProvider> {
    const server = http.createServer();
    const issuer = await listen(server);
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forger = new ForgingProvider(issuer, server, privateKey);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void forger.answer(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    return forger;
  }

  private json(res: ServerResponse, body: unknown): void {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      return this.json(res, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/auth`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') {
      const publicJwk = crypto.createPublicKey(this.key).export({ format: 'jwk' });
      return this.json(res, { keys: [{ ...publicJwk, kid: 'forger', alg: 'RS256', use: 'sig' }] });
    }
    if (url.pathname === '/auth') {
      const code = crypto.randomBytes(16).toString('base64url');
      this.codes.set(code, { nonce: url.searchParams.get('nonce') ?? '', challenge: url.searchParams.get('code_challenge') ?? '' });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(303, { Location: back.href });
      return void res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      if (this.tokenEndpointDown) return void req.socket.destroy();
      const body = await bodyOf(req);
      const issued = this.codes.get(body.get('code') ?? '');
      this.codes.delete(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      if (!issued || crypto.createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) {
        res.statusCode = 400;
        return this.json(res, { error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = this.tamper({ iss: this.issuer, sub: this.subject, aud: CLIENT_ID, iat: now, exp: now + 300, nonce: issued.nonce });
      return this.json(res, { access_token: crypto.randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: this.sign(claims) });
    }
    res.statusCode = 404;
    res.end();
  }

  private sign(claims: Record<string, unknown>): string {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'forger' })}.${part(claims)}`;
    return `${input}.${crypto.sign('sha256', Buffer.from(input), this.key).toString('base64url')}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A cookie jar for one browser at the providers (their cookies; the app's are supertest's). */
export class ProviderBrowser {
  private readonly cookies = new Map<string, string>();

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { Cookie: cookie } : {}) } });
    this.remember(res);
    return res;
  }

  /**
   * Follows the provider's pages from `url` (redirects; the login page, submitted as it is) until it
   * sends the browser to `until` (the app's callback): that URL.
   */
  async through(url: string, until: string): Promise<string> {
    let next = url;
    for (let hops = 0; hops < 20; hops += 1) {
      if (next.startsWith(until)) return next;
      const res = await this.request(next);
      const location = res.headers.get('location');
      if (location) {
        next = new URL(location, next).href;
        continue;
      }
      const page = await res.text();
      const form = /<form method="post" action="([^"]+)">[\s\S]*?name="login" value="([^"]*)"/.exec(page);
      if (!form) throw new Error(`the provider answered ${res.status} at ${next}: ${page.slice(0, 300)}`);
      const posted = await this.request(new URL(form[1] as string, next).href, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: (form[2] as string).replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))) }).toString(),
      });
      const after = posted.headers.get('location');
      if (!after) throw new Error(`the provider's login answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
      next = new URL(after, next).href;
    }
    throw new Error('too many redirects at the provider');
  }
}
