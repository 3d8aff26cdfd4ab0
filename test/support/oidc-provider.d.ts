/** The part of `oidc-provider` (v9, no types of its own) the tests' provider uses (test/support/oidc.ts). */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  interface Context {
    oidc: {
      provider: Provider;
      client?: { clientId: string };
      session?: { accountId?: string };
    };
  }

  interface Account {
    accountId: string;
    claims(): Record<string, unknown>;
  }

  interface Configuration {
    clients: Array<Record<string, unknown>>;
    jwks: { keys: Array<Record<string, unknown>> };
    cookies: { keys: string[] };
    claims: Record<string, string[]>;
    acrValues: string[];
    features: Record<string, { enabled: boolean }>;
    interactions: { url(ctx: Context, interaction: { uid: string }): string };
    findAccount(ctx: Context, sub: string): Account | undefined;
    loadExistingGrant(ctx: Context): Promise<GrantInstance>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    Grant: new (fields: { clientId: string; accountId: string }) => GrantInstance;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ uid: string; prompt: { name: string } }>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }
}
