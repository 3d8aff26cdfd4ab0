/**
 * Dovecot's auth policy server (Dovecot 2.3 `auth_policy_server_url`, see deploy/dovecot): Dovecot
 * POSTs each mail-program sign-in as JSON to `?command=allow` before checking the password and to
 * `?command=report` after. Answers are `{"status":0}` (go on) or a negative status with `msg`, which
 * the client sees as `[ALERT] msg`; any other answer is a policy server failure, after which Dovecot
 * goes on or refuses as `auth_policy_reject_on_fail` says.
 * Mounted before the session and CSRF middleware: a machine endpoint, authenticated by its key.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AuthPolicy } from '../../domain/auth-policy';
import { MAIL_PROTOCOLS } from '../../models';
import { DEFAULT_LOCALE, translator } from '../../i18n';
import type { LogSink } from '../../lib/logger';
import { sameSecret } from '../../lib/secrets';

export const AUTH_POLICY_PATH = '/dovecot/auth-policy';

/** The fields of deploy/dovecot/dovecot.conf's `auth_policy_request_attributes`, and the report's. */
const attempt = z.object({
  login: z.string().max(1000),
  remote: z.string().max(100),
  protocol: z.enum(MAIL_PROTOCOLS),
  client_id: z.string().max(2000).default(''),
});
const report = attempt.extend({
  success: z.boolean(),
  policy_reject: z.boolean().default(false),
  // `%{passdb:app_password}`: the id of the app password that signed in, '' for the account's password.
  app_password: z.union([z.literal(''), z.string().regex(/^[1-9]\d{0,15}$/).transform(Number)]).default(''),
});

/** Dovecot sends the key through `auth_policy_server_api_header`; compared in constant time. */
function withKey(key: string): RequestHandler {
  const expected = `Bearer ${key}`;
  return (req, res, next) => {
    if (sameSecret(req.get('Authorization') ?? '', expected)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').end();
  };
}

function answer(res: Response, status: number, body: object): void {
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

const ALLOW = { status: 0 } as const;

/** `POST /dovecot/auth-policy?command=allow|report`; 404 while AUTH_POLICY_KEY is unset. */
export function authPolicyRouter(policy: AuthPolicy, key: string | undefined, logger: LogSink): Router {
  const router = Router();
  if (!key) {
    router.all(AUTH_POLICY_PATH, (_req, res) => answer(res, 404, { error: 'the auth policy server is off (AUTH_POLICY_KEY)' }));
    return router;
  }
  const tooMany = translator(DEFAULT_LOCALE)('errorPage.tooManyMailProgram');

  // POST /dovecot/auth-policy?command=allow|report
  router.post(AUTH_POLICY_PATH, withKey(key), express.json({ limit: '8kb' }), async (req: Request, res) => {
    const command = req.query.command;
    if (command === 'allow') {
      const parsed = attempt.safeParse(req.body);
      if (!parsed.success) return answer(res, 400, { error: 'expected login, remote, protocol and client_id' });
      const { login, remote, protocol, client_id: clientId } = parsed.data;
      const verdict = await policy.allow({ login, remote, protocol, clientId });
      // The account's language is not used here: it would tell a guesser the account exists.
      return answer(res, 200, verdict.allowed ? ALLOW : { status: -1, msg: tooMany });
    }
    if (command === 'report') {
      const parsed = report.safeParse(req.body);
      if (!parsed.success) return answer(res, 400, { error: 'expected login, remote, protocol, client_id, success, policy_reject and app_password' });
      const { login, remote, protocol, client_id: clientId, success, policy_reject: policyReject, app_password: appPassword } = parsed.data;
      await policy.report({ login, remote, protocol, clientId, success, policyReject, appPassword: appPassword === '' ? null : appPassword });
      return answer(res, 200, ALLOW);
    }
    answer(res, 400, { error: 'command must be allow or report' });
  });
  router.all(AUTH_POLICY_PATH, (_req, res) => {
    res.set('Allow', 'POST');
    answer(res, 405, { error: 'use POST' });
  });

  // Unreadable bodies in a word; anything else is ours: logged, and a failure Dovecot logs too.
  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return answer(res, status, { error: status === 413 ? 'request too large' : 'unreadable request' });
    logger.error({ err: error }, 'auth policy request failed');
    answer(res, 500, { error: 'internal error' });
  };
  router.use(AUTH_POLICY_PATH, errors);
  return router;
}
