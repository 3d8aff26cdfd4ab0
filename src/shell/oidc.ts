import type * as OpenId from 'openid-client';
import type { OidcConfig, OidcProviderConfig, OidcProviderName } from '../config';
import type { ProvidedIdentity } from '../domain/identities';
import type { Clock } from '../lib/clock';
import { whenUsed } from '../lib/when-used';

/** How long a started sign-in or link may take at the provider before it must start again. */
export const FLOW_TTL_MS = 10 * 60 * 1000;
/** How long the provider may take to answer one request (discovery, keys, token). */
const PROVIDER_TIMEOUT_S = 10;
/** `amr` values (RFC 8176) that name a second factor: with one of them the provider did two steps. */
const MULTI_FACTOR_AMR = ['mfa', 'otp', 'hwk', 'swk'];

/**
 * What the session keeps between sending the browser to the provider and its return (the callback):
 * the secrets the answer is checked against, for one provider and one purpose, until `expiresAt`
 * (epoch ms, the domain clock). Taken out of the session as it is read: used once.
 */
export interface OidcFlow {
  provider: OidcProviderName;
  purpose: 'sign-in' | 'link';
  /** principalKey() of the account linking, for `link`. */
  account?: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: number;
}

/** The provider's answer was what it should be, and says who this is. */
export interface VerifiedSignIn extends ProvidedIdentity {
  /** The ID token says a second factor was used (`amr`, or an `acr` listed in OIDC_MFA_ACR). */
  multiFactor: boolean;
}

/** The provider could not be reached (discovery, keys or token endpoint down, or answering 5xx). */
export class ProviderUnavailable extends Error {}
/** The provider's answer failed a check (state, nonce, issuer, audience, expiry, signature, an error it returned). */
export class AnswerRefused extends Error {}

const openid = whenUsed(() => require('openid-client') as typeof OpenId);

/** Whether `error` is the network's or the server's, not the answer's: nothing came back to check. */
function isUnreachable(error: unknown): boolean {
  const client = openid();
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.name === 'AbortError' || e.name === 'TimeoutError' || (e instanceof TypeError && /fetch failed/i.test(e.message))) return true;
    if (e instanceof client.ResponseBodyError && e.status >= 500) return true;
    const status = (e as { response?: { status?: unknown } }).response?.status;
    if (typeof status === 'number' && status >= 500) return true;
  }
  return false;
}

/**
 * The OpenID Connect providers of the configuration, through openid-client: authorization code flow
 * with PKCE (S256), `state` and `nonce`, client_secret_basic at the token endpoint, the ID token
 * verified by openid-client (signature from the provider's JWKS, `iss`, `aud`, `exp`, `nonce`). Each
 * provider's discovery document is fetched at its first use and kept; a failed fetch is tried
 * again at the next use. The redirect URI of each is `<BASE_URL>/login/oidc/<name>/callback`: one per
 * provider, so that an answer is only ever checked against the provider it was meant for.
 */
export class OidcClients {
  private readonly discovered = new Map<OidcProviderName, Promise<OpenId.Configuration>>();

  constructor(
    private readonly config: OidcConfig,
    private readonly baseUrl: string,
    private readonly clock: Clock,
  ) {}

  /** The configured providers' names, in the order the pages show them. */
  get names(): OidcProviderName[] {
    return this.config.providers.map((p) => p.name);
  }

  /** The configured provider called `name`, or null. */
  provider(name: string): OidcProviderConfig | null {
    return this.config.providers.find((p) => p.name === name) ?? null;
  }

  redirectUri(name: OidcProviderName): string {
    return `${this.baseUrl}/login/oidc/${name}/callback`;
  }

  /**
   * Where to send the browser, and the flow for its session. Throws ProviderUnavailable when the
   * discovery document cannot be had.
   */
  async start(provider: OidcProviderConfig, purpose: OidcFlow['purpose'], account?: string): Promise<{ url: string; flow: OidcFlow }> {
    const client = openid();
    const configuration = await this.configurationOf(provider);
    const flow: OidcFlow = {
      provider: provider.name,
      purpose,
      ...(account ? { account } : {}),
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      expiresAt: this.clock.now().getTime() + FLOW_TTL_MS,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(provider.name),
      scope: 'openid email',
      response_type: 'code',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flow };
  }

  /**
   * Checks the provider's answer (`query`, the callback's query string) against `flow` and exchanges
   * its code at the token endpoint. Throws AnswerRefused or ProviderUnavailable.
   */
  async finish(provider: OidcProviderConfig, flow: OidcFlow, query: string): Promise<VerifiedSignIn> {
    const client = openid();
    const configuration = await this.configurationOf(provider);
    const currentUrl = new URL(this.redirectUri(provider.name));
    currentUrl.search = query;
    let claims: OpenId.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        pkceCodeVerifier: flow.codeVerifier,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      if (isUnreachable(error)) throw new ProviderUnavailable(provider.name, { cause: error });
      throw new AnswerRefused(provider.name, { cause: error });
    }
    if (!claims) throw new AnswerRefused(provider.name);
    return {
      provider: provider.name,
      issuer: claims.iss,
      subject: claims.sub,
      email: typeof claims.email === 'string' ? claims.email : null,
      multiFactor: this.isMultiFactor(claims),
    };
  }

  private isMultiFactor(claims: OpenId.IDToken): boolean {
    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    if (amr.some((method) => MULTI_FACTOR_AMR.includes(String(method)))) return true;
    return typeof claims.acr === 'string' && this.config.mfaAcrValues.includes(claims.acr);
  }

  private configurationOf(provider: OidcProviderConfig): Promise<OpenId.Configuration> {
    const known = this.discovered.get(provider.name);
    if (known) return known;
    const client = openid();
    const issuer = new URL(provider.issuer);
    // Plain http only for an issuer on this machine (the configuration refuses any other).
    const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
    const discovery = client
      .discovery(issuer, provider.clientId, { client_secret: provider.clientSecret }, client.ClientSecretBasic(provider.clientSecret), { execute, timeout: PROVIDER_TIMEOUT_S })
      .then((configuration) => {
        configuration.timeout = PROVIDER_TIMEOUT_S;
        return configuration;
      })
      .catch((error: unknown) => {
        this.discovered.delete(provider.name);
        throw new ProviderUnavailable(provider.name, { cause: error });
      });
    this.discovered.set(provider.name, discovery);
    return discovery;
  }
}
