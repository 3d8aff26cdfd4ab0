/**
 * Lets mail programs configure themselves: Thunderbird autoconfig and Microsoft Autodiscover (POX).
 * They answer only for the mail domains the installation serves (404 for gmail.com), and the same
 * whether an account exists or not (no existence leak).
 * Mounted before the CSRF middleware: these are machine endpoints without a session.
 */
import express, { Router, type ErrorRequestHandler, type Response } from 'express';
import { autodiscoverError, autodiscoverResponse, emailAddressFromAutodiscover, parseMailAddress, thunderbirdConfig, type AutoconfigSettings, type MailAddress } from '../../mail/autoconfig';

function sendXml(res: Response, status: number, xml: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('application/xml; charset=utf-8').send(xml);
}

function sendText(res: Response, status: number, text: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(`${text}\n`);
}

/** The served mail domains (the domain's MailDomains). */
export interface ServedDomains {
  serves(domain: string): Promise<boolean>;
  list(): Promise<string[]>;
}

const THUNDERBIRD_PATHS = ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml'];
const AUTODISCOVER_PATHS = ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml'];
/** Every path autoconfigRouter answers (mounted there alone: any other request passes it by). */
export const AUTOCONFIG_PATHS = [...THUNDERBIRD_PATHS, ...AUTODISCOVER_PATHS];

export function autoconfigRouter(settings: AutoconfigSettings, domains: ServedDomains): Router {
  const router = Router();
  const served = (address: MailAddress) => domains.serves(address.domain);

  // GET /.well-known/autoconfig/mail/config-v1.1.xml and GET /mail/config-v1.1.xml (?emailaddress=…)
  router.get(THUNDERBIRD_PATHS, async (req, res) => {
    const raw = req.query.emailaddress;
    if (raw === undefined || raw === '') return sendXml(res, 200, thunderbirdConfig(settings, null, await domains.list()));
    const address = typeof raw === 'string' ? parseMailAddress(raw) : null;
    if (!address) return sendText(res, 400, 'emailaddress must be a mailbox address or a collaborator username (name/mailbox)');
    if (!(await served(address))) return sendText(res, 404, 'this server does not serve that address');
    sendXml(res, 200, thunderbirdConfig(settings, address, []));
  });

  // POST /autodiscover/autodiscover.xml (Outlook; also asked as /Autodiscover/Autodiscover.xml)
  router
    .route(AUTODISCOVER_PATHS)
    .post(express.text({ type: ['text/xml', 'application/xml'], limit: '16kb' }), async (req, res) => {
      if (typeof req.body !== 'string') return sendXml(res, 415, autodiscoverError('send the request as text/xml'));
      const parsed = emailAddressFromAutodiscover(req.body);
      if ('error' in parsed) return sendXml(res, 400, autodiscoverError(parsed.error));
      const address = parseMailAddress(parsed.address);
      if (!address) return sendXml(res, 400, autodiscoverError('EMailAddress must be a mailbox address or a collaborator username'));
      if (!(await served(address))) return sendXml(res, 404, autodiscoverError('this server does not serve that address'));
      sendXml(res, 200, autodiscoverResponse(settings, address));
    })
    .all((_req, res) => {
      res.set('Allow', 'POST');
      sendText(res, 405, 'use POST with an Autodiscover request');
    });

  // Body errors (too large, bad charset) answered here in plain words, never as a stack trace.
  const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status !== 'number' || status < 400 || status >= 500) return next(error);
    sendXml(res, status, autodiscoverError(status === 413 ? 'request too large' : 'unreadable request'));
  };
  router.use(bodyErrors);
  return router;
}
