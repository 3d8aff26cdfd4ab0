import { Router, type Request, type Response } from 'express';
import { requireSignIn } from '../middleware/auth';
import type { MailServerConfig } from '../../config';
import { mailSetup, SECURITY_LABELS } from '../../mail/mail-setup';
import type { Accounts } from '../../domain/accounts';
import { sessionKey } from '../../domain/sessions';
import type { Session } from '../../models';
import { deviceOf } from '../user-agent';
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

/** A signed-in collaborator's own page. */
export function accountRouter(accounts: Accounts, mailServer: MailServerConfig): Router {
  const router = Router();

  // GET /account
  router.get('/account', requireSignIn, async (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator') return next();
    const { collaborator, mailbox } = req.signedIn;
    const sessions = sessionRows(req, res, await accounts.sessionsOf({ type: 'collaborator', id: collaborator.id }));
    const setup = mailSetup(mailServer, { mailbox: mailbox.address, login: collaborator.username });
    render(req, res, { page: 'account/show' }, { collaborator, mailbox, mailSetup: setup, securityLabels: SECURITY_LABELS, sessions });
  });

  // POST /account/sessions/revocation: "sign out everywhere else"
  router.post('/account/sessions/revocation', requireSignIn, async (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator') return next();
    await accounts.endOtherSessions({ type: 'collaborator', id: req.signedIn.collaborator.id }, req.sessionID);
    redirectWithNotice(req, res, '/account', res.locals.t('notice.sessionsEnded'));
  });

  return router;
}
