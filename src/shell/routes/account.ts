import { Router, type Request, type Response } from 'express';
import { requireSignIn } from '../middleware/auth';
import type { MailServerConfig } from '../../config';
import { mailSetup, SECURITY_LABELS } from '../../mail/mail-setup';
import type { Accounts } from '../../domain/accounts';
import { sessionKey } from '../../domain/sessions';
import type { TwoStep } from '../../domain/two-step';
import type { AppPasswords } from '../../domain/app-passwords';
import type { Actor } from '../../domain/actor';
import { ValidationFailed } from '../../domain/errors';
import { APP_PASSWORD_SCOPES, type Collaborator, type Session } from '../../models';
import { requestOrigin } from '../../plugin';
import { deviceOf } from '../../lib/user-agent';
import { redirectWithNotice, render } from '../render';

export interface SessionRow {
  device: string;
  ip: string | null;
  lastSeen: Date;
  current: boolean;
}

/** The open sessions as the page shows them: a short device name, this device marked. */
function sessionRows(req: Request, res: Response, sessions: Session[]): SessionRow[] {
  const t = res.locals.t as (key: string, vars?: Record<string, unknown>) => string;
  return sessions.map((s) => {
    const { browser, system } = deviceOf(s.userAgent);
    const device = browser && system ? t('account.deviceOn', { browser, system }) : (browser ?? system ?? t('account.unknownDevice'));
    return { device, ip: s.ip, lastSeen: s.updatedAt, current: s.sid === sessionKey(req.sessionID) };
  });
}

/** What the app-password part of the page shows besides the list: a form's values and errors, or the password just made. */
interface AppPasswordForm {
  values?: { name?: string; scope?: string };
  errors?: Record<string, string>;
  created?: { name: string; password: string };
}

/** A signed-in collaborator's own page. */
export function accountRouter(accounts: Accounts, appPasswords: AppPasswords, twoStep: TwoStep, mailServer: MailServerConfig): Router {
  const router = Router();

  async function showAccount(req: Request, res: Response, form: AppPasswordForm = {}, status = 200) {
    if (req.signedIn?.type !== 'collaborator') throw new Error('the account page is a collaborator’s');
    const { collaborator, mailbox } = req.signedIn;
    const sessions = sessionRows(req, res, await accounts.sessionsOf({ type: 'collaborator', id: collaborator.id }));
    const setup = mailSetup(mailServer, { mailbox: mailbox.address, login: collaborator.username });
    const mailPrograms = collaborator.accessLevel === 'mail_clients';
    const appPasswordList = mailPrograms ? await appPasswords.list(collaborator) : [];
    const twoStepOn = mailPrograms && (await twoStep.isOn({ type: 'collaborator', id: collaborator.id }));
    const appPasswordForm = { values: {}, errors: {}, ...form };
    await render(req, res, { page: 'account/show' }, {
      collaborator, mailbox, mailSetup: setup, securityLabels: SECURITY_LABELS, sessions, appPasswords: appPasswordList, appPasswordForm, twoStepOn, scopes: APP_PASSWORD_SCOPES,
    }, status);
  }

  /** The signed-in collaborator allowed in mail programs, or null (the app-password routes are then 404). */
  function mailProgramUser(req: Request): Collaborator | null {
    const signedIn = req.signedIn;
    return signedIn?.type === 'collaborator' && signedIn.collaborator.accessLevel === 'mail_clients' ? signedIn.collaborator : null;
  }

  function actorOf(c: Collaborator, req: Request): Actor {
    return { type: 'collaborator', id: c.id, name: c.username, ...requestOrigin(req) };
  }

  // GET /account
  router.get('/account', requireSignIn, async (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator') return next();
    await showAccount(req, res);
  });

  // POST /account/app-passwords (`name`, `scope`): the new password is shown in this answer, once
  router.post('/account/app-passwords', requireSignIn, async (req, res, next) => {
    const collaborator = mailProgramUser(req);
    if (!collaborator) return next();
    const values = { name: String(req.body?.name ?? ''), scope: String(req.body?.scope ?? '') };
    try {
      const { appPassword, password } = await appPasswords.create(collaborator, values, { actor: actorOf(collaborator, req) });
      await showAccount(req, res, { created: { name: appPassword.name, password } }, 201);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      await showAccount(req, res, { values, errors: error.errors }, 422);
    }
  });

  // POST /account/app-passwords/:id/revocation
  router.post('/account/app-passwords/:id/revocation', requireSignIn, async (req, res, next) => {
    const collaborator = mailProgramUser(req);
    if (!collaborator) return next();
    const revoked = await appPasswords.revoke(collaborator, String(req.params.id), { actor: actorOf(collaborator, req) });
    redirectWithNotice(req, res, '/account#app-passwords', res.locals.t('notice.appPasswordRevoked', { name: revoked.name }));
  });

  // POST /account/sessions/revocation: "sign out everywhere else"
  router.post('/account/sessions/revocation', requireSignIn, async (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator') return next();
    await accounts.endOtherSessions({ type: 'collaborator', id: req.signedIn.collaborator.id }, req.sessionID);
    redirectWithNotice(req, res, '/account', res.locals.t('notice.sessionsEnded'));
  });

  return router;
}
