import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Collaborations, NewCollaborator } from '../../domain/collaborators';
import type { Directory } from '../../domain/directory';
import type { Actor } from '../../domain/actor';
import { ValidationFailed } from '../../domain/errors';
import { allows, type AccountEvent } from '../../domain/state-machine';
import { ACCESS_LEVELS, type Collaborator, type Mailbox } from '../../models';
import { redirectWithNotice, render, wantsFragment } from '../render';
import { clientIp } from '../client-ip';

/**
 * What a host webmail hands the Collaborations feature: who the signed-in mailbox owner is.
 * Sign-in, sessions and CSRF belong to the host; this router only manages collaborators.
 */
export interface CollaborationsHost {
  collaborations: Collaborations;
  directory: Directory;
  /** The mailbox whose owner is signed in, or null (the router answers 404). */
  resolveOwner(req: Request): Mailbox | null | Promise<Mailbox | null>;
}

/** The confirmations the three-dot menu opens, each a resource of its own. */
const CONFIRMATIONS = {
  'password-reset': { event: 'reset', text: 'reset' },
  'password-link': { event: 'resend', text: 'resend' },
  deactivation: { event: 'deactivate', text: 'deactivate' },
  recreation: { event: 'deactivate', text: 'wrongEmail' },
  removal: { event: 'remove', text: 'remove' },
} as const satisfies Record<string, { event: AccountEvent; text: string }>;
type ConfirmationName = keyof typeof CONFIRMATIONS;

function actorOf(req: Request): Actor {
  const owner = req.owner as Mailbox;
  return { type: 'owner', id: owner.id, name: owner.address, ip: clientIp(req) };
}

function formInput(body: Record<string, unknown>): NewCollaborator {
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  return {
    firstName: text('firstName'),
    lastName: text('lastName'),
    username: text('username'),
    referenceEmail: text('referenceEmail'),
    accessLevel: text('accessLevel') as NewCollaborator['accessLevel'],
    manageSettings: text('manageSettings'),
  };
}

export function collaborationsRouter(host: CollaborationsHost): Router {
  const { collaborations, directory } = host;
  const router = Router();

  const ownerOnly: RequestHandler = async (req, res, next) => {
    const owner = await host.resolveOwner(req);
    if (!owner) return next('router');
    req.owner = owner;
    res.locals.base = req.baseUrl;
    res.locals.owner = owner;
    res.locals.accessLevels = ACCESS_LEVELS;
    res.locals.allows = allows;
    next();
  };
  router.use(ownerOnly);

  router.param('id', async (req, _res, next, id: string) => {
    req.collaborator = await directory.find(req.owner as Mailbox, id);
    next();
  });

  /** After an action: htmx gets the updated row in place, a plain form the list again. */
  async function respondWithRow(req: Request, res: Response, collaborator: Collaborator, notice: string) {
    if (wantsFragment(req)) {
      const lastEmail = await directory.lastEmail(collaborator);
      res.vary('HX-Request').vary('HX-Request-Type');
      return res.render('collaborations/_row', { collaborator, lastEmail, notice });
    }
    redirectWithNotice(req, res, req.baseUrl, notice);
  }

  function notice(res: Response, key: string, collaborator: Collaborator): string {
    return res.locals.t(`notice.${key}`, { name: collaborator.fullName });
  }

  // GET /settings/collaborations
  router.get('/', async (req, res) => {
    const page = await directory.list(req.owner as Mailbox, { query: String(req.query.q ?? ''), page: Number(req.query.page ?? 1) });
    render(req, res, { page: 'collaborations/index', fragment: 'collaborations/_list' }, { list: page });
  });

  // GET /settings/collaborations/new(?from=<id of a deactivated account to recreate>)
  router.get('/new', async (req, res) => {
    const from = req.query.from ? await directory.find(req.owner as Mailbox, String(req.query.from)) : null;
    const values = from
      ? { firstName: from.firstName, lastName: from.lastName, accessLevel: from.accessLevel, manageSettings: from.manageSettings }
      : { accessLevel: 'read' };
    render(req, res, { page: 'collaborations/new', fragment: 'collaborations/_form' }, { values, errors: {}, from });
  });

  // POST /settings/collaborations
  router.post('/', async (req, res) => {
    const input = formInput(req.body ?? {});
    try {
      const collaborator = await collaborations.create(req.owner as Mailbox, input, { actor: actorOf(req) });
      redirectWithNotice(req, res, req.baseUrl, notice(res, 'created', collaborator));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      const values = { ...input, manageSettings: input.manageSettings === 'on' || input.manageSettings === 'true' };
      render(req, res, { page: 'collaborations/new', fragment: 'collaborations/_form' }, { values, errors: error.errors, from: null }, 422);
    }
  });

  // GET /settings/collaborations/:id
  router.get('/:id', async (req, res) => {
    const collaborator = req.collaborator as Collaborator;
    const details = await directory.details(collaborator);
    render(req, res, { page: 'collaborations/show' }, { collaborator, ...details });
  });

  // GET /settings/collaborations/:id/<confirmation>: the dialog (htmx) or its page (no JavaScript)
  router.get('/:id/:confirmation', (req, res, next) => {
    const name = req.params.confirmation as ConfirmationName;
    const confirmation = CONFIRMATIONS[name];
    if (!confirmation) return next();
    const collaborator = req.collaborator as Collaborator;
    // In the dialog the form updates the row in place; on its own page it posts and comes back.
    const inDialog = wantsFragment(req);
    render(req, res, { page: 'collaborations/confirm', fragment: 'collaborations/_confirm' }, { collaborator, name, inDialog, ...confirmation });
  });

  // POST /settings/collaborations/:id/password-reset
  router.post('/:id/password-reset', async (req, res) => {
    const collaborator = await collaborations.resetPassword(req.collaborator as Collaborator, { actor: actorOf(req) });
    await respondWithRow(req, res, collaborator, notice(res, 'reset', collaborator));
  });

  // POST /settings/collaborations/:id/password-link
  router.post('/:id/password-link', async (req, res) => {
    const collaborator = await collaborations.resendLink(req.collaborator as Collaborator, { actor: actorOf(req) });
    await respondWithRow(req, res, collaborator, notice(res, 'resent', collaborator));
  });

  // POST /settings/collaborations/:id/deactivation
  router.post('/:id/deactivation', async (req, res) => {
    const collaborator = await collaborations.deactivate(req.collaborator as Collaborator, { actor: actorOf(req) });
    await respondWithRow(req, res, collaborator, notice(res, 'deactivated', collaborator));
  });

  // POST /settings/collaborations/:id/access
  router.post('/:id/access', async (req, res) => {
    const body = req.body ?? {};
    const collaborator = await collaborations.changeAccess(
      req.collaborator as Collaborator,
      { accessLevel: body.accessLevel, manageSettings: body.manageSettings ?? '' },
      { actor: actorOf(req) },
    );
    redirectWithNotice(req, res, `${req.baseUrl}/${collaborator.id}`, notice(res, 'accessChanged', collaborator));
  });

  // POST /settings/collaborations/:id/recreation: deactivate, then the add form prefilled
  router.post('/:id/recreation', async (req, res) => {
    const collaborator = await collaborations.deactivate(req.collaborator as Collaborator, { actor: actorOf(req) });
    redirectWithNotice(req, res, `${req.baseUrl}/new?from=${collaborator.id}`, notice(res, 'deactivated', collaborator));
  });

  // DELETE /settings/collaborations/:id (htmx), or POST with _method=DELETE (plain form)
  router.delete('/:id', async (req, res) => {
    const collaborator = req.collaborator as Collaborator;
    await collaborations.remove(collaborator, { actor: actorOf(req) });
    if (wantsFragment(req)) return res.status(200).send('');
    redirectWithNotice(req, res, req.baseUrl, notice(res, 'removed', collaborator));
  });

  return router;
}
