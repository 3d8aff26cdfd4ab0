import type { RequestHandler } from 'express';
import { requireSignIn } from './auth';

/**
 * Pages of the mailbox owner: a visitor is sent to sign in; a collaborator, whatever its flags
 * (manage_settings included), gets the same 404 as a page that does not exist.
 */
export const ownerOnly: RequestHandler[] = [
  requireSignIn,
  (req, _res, next) => (req.signedIn?.type === 'owner' ? next() : next('router')),
];
