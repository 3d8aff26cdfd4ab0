import { Router } from 'express';
import type { MailServerConfig } from '../../config';
import { appleMailProfile } from '../../mail/apple-profile';
import { mailSetup } from '../../mail/mail-setup';
import { requireSignIn } from '../middleware/auth';

/** The Apple configuration profile a collaborator with mail-program access downloads from its account page. */
export function mailProfileRouter(mailServer: MailServerConfig, baseUrl: string): Router {
  const router = Router();

  // GET /account/mail-profile.mobileconfig
  router.get('/account/mail-profile.mobileconfig', requireSignIn, (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator' || req.signedIn.collaborator.accessLevel !== 'mail_clients') return next();
    const { collaborator, mailbox } = req.signedIn;
    const profile = appleMailProfile({
      setup: mailSetup(mailServer, { mailbox: mailbox.address, login: collaborator.username }),
      fullName: collaborator.fullName,
      host: new URL(baseUrl).hostname,
    });
    res
      .set({ 'Content-Disposition': 'attachment; filename="pec-mail.mobileconfig"' })
      .type('application/x-apple-aspen-config')
      .send(profile);
  });

  return router;
}
