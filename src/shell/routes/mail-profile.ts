import { Router } from 'express';
import type { MailServerConfig } from '../../config';
import { appleMailProfile } from '../../mail/apple-profile';
import { requireSignIn } from '../middleware/auth';

/** The Apple configuration profile a collaborator with mail-program access downloads from its account page. */
export function mailProfileRouter(mailServer: MailServerConfig, baseUrl: string): Router {
  const router = Router();

  // GET /account/mail-profile.mobileconfig
  router.get('/account/mail-profile.mobileconfig', requireSignIn, (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator' || req.signedIn.collaborator.accessLevel !== 'mail_clients') return next();
    const { collaborator, mailbox } = req.signedIn;
    const profile = appleMailProfile({
      username: collaborator.username,
      mailbox: mailbox.address,
      fullName: collaborator.fullName,
      host: new URL(baseUrl).hostname,
      server: mailServer,
    });
    res
      .set({ 'Content-Disposition': 'attachment; filename="pec-mail.mobileconfig"' })
      .type('application/x-apple-aspen-config')
      .send(profile);
  });

  return router;
}
