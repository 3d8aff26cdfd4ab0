import { Router, type Request, type Response } from 'express';
import type { NewCollaborator } from '../../domain/collaborators';
import { LIST_SORTS, LIST_STATUSES, type ListQuery, type ListSort, type PagePosition } from '../../domain/directory';
import { ValidationFailed } from '../../domain/errors';
import { allows, type AccountEvent } from '../../domain/state-machine';
import { ACCESS_LEVELS, type Collaborator, type Status } from '../../models';
import { wantsFragment } from '../render';
import { ListCache } from '../list-cache';
import { renderList, rowRenderer } from '../list-rows';
import { fitText } from '../../lib/text';
import { instantToItalianTime } from '../../i18n/dates';
import type { AccessEndInput } from '../../domain/access-end';
import { actorOf, collaboratorOf, ownerOf, redirectWithNotice, type Feature } from '../context';

/** The confirmations the three-dot menu opens, each a resource of its own. */
const CONFIRMATIONS = {
  'password-reset': { event: 'reset', text: 'reset' },
  'password-link': { event: 'resend', text: 'resend' },
  deactivation: { event: 'deactivate', text: 'deactivate' },
  reactivation: { event: 'reactivate', text: 'reactivate' },
  removal: { event: 'remove', text: 'remove' },
} as const satisfies Record<string, { event: AccountEvent; text: string }>;
type ConfirmationName = keyof typeof CONFIRMATIONS;

/** The names the updates after an action take (views/plugin/collaborations/_updates.ejs). */
const UPDATES_PARTIAL = ['rowHtml', 'notice', 'listHtml'] as const;

/** What the list's page uses (views/plugin/collaborations/index.ejs). */
const INDEX_LOCALS = ['t', 'urls', 'asked', 'statuses', 'sorts', 'listHtml', 'twoStepPolicy', 'csrfToken', 'owner', 'setTitle'];

/** `?page=3&after=120`: the page's number, and the row it follows or precedes (see Directory.list). */
function positionOf(query: Request['query']): PagePosition {
  const id = (value: unknown) => (typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : undefined);
  return { page: Math.max(1, Math.floor(Number(query.page ?? 1)) || 1), after: id(query.after), before: id(query.before) };
}

/** `?q=rossi&status=pending&sort=lastAccess&dir=desc`: what the list is asked for; anything else is the default. */
function listQueryOf(query: Record<string, unknown>): Required<ListQuery> {
  const one = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined => (allowed as readonly unknown[]).includes(value) ? (value as T) : undefined;
  return {
    query: fitText(typeof query.q === 'string' ? query.q : '').trim().slice(0, 100),
    status: one<Status>(query.status, LIST_STATUSES) ?? null,
    sort: one<ListSort>(query.sort, LIST_SORTS) ?? 'name',
    direction: one(query.dir, ['asc', 'desc'] as const) ?? 'asc',
  };
}

const textOf = (body: Record<string, unknown>) => (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');

function formInput(body: Record<string, unknown>): NewCollaborator {
  const text = textOf(body);
  return {
    firstName: text('firstName'),
    lastName: text('lastName'),
    username: text('username'),
    referenceEmail: text('referenceEmail'),
    accessLevel: text('accessLevel') as NewCollaborator['accessLevel'],
    manageSettings: text('manageSettings'),
    ...accessEndInput(body),
  };
}

function accessEndInput(body: Record<string, unknown>): Required<AccessEndInput> {
  const text = textOf(body);
  return { accessEndDate: text('accessEndDate'), accessEndTime: text('accessEndTime') };
}

/** The extension page proposes the current end one week later (or a week from now when it has passed or none is set). */
const EXTENSION_MS = 7 * 24 * 3600 * 1000;

/** The date and time fields as a form shows an instant (Italian time); empty for none. */
function accessEndFields(instant: Date | null): Required<AccessEndInput> {
  if (!instant) return { accessEndDate: '', accessEndTime: '' };
  const { date, time } = instantToItalianTime(instant);
  return { accessEndDate: date, accessEndTime: time };
}

/**
 * Settings → Collaborations: the owner's list, details and actions. Mounted behind the owner guard
 * (`res.locals.owner`); a collaborator of another mailbox is a 404 like a missing one.
 */
/**
 * The time the owner typed and the Italian time it became, when they differ: a time the clocks skip
 * that night, read an hour later (RFC 5545 §3.3.5), is said to the owner rather than moved silently.
 */
function movedTime(typed: string | undefined, ends: Date): { typed: string; time: string } | null {
  const [hours, minutes] = (typed ?? '').trim().split(':').map(Number);
  const { time } = instantToItalianTime(ends);
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}` === time ? null : { typed: (typed ?? '').trim(), time };
}

export function collaboratorsRouter(feature: Feature): Router {
  const { collaborations, directory, twoStep } = feature.domain;
  const { pages, urls } = feature;
  const router = Router();
  const cache = new ListCache(feature.domain.config.listCacheEntries);

  router.use((_req, res, next) => {
    Object.assign(res.locals, { accessLevels: ACCESS_LEVELS, allows, twoStepPolicy: feature.twoStepPolicy });
    next();
  });

  router.param('id', async (_req, res, next, id: string) => {
    res.locals.collaborator = await directory.find(ownerOf(res), id);
    next();
  });

  /**
   * After an action: htmx gets the updated row in place and the notice in the list's announcement
   * region (its own full-width place, read out by screen readers); a plain form the list again.
   */
  async function respondWithRow(req: Request, res: Response, collaborator: Collaborator, notice: string) {
    if (!wantsFragment(req)) return redirectWithNotice(feature, res, await backTo(req, collaborator), notice);
    const row = await directory.row(collaborator);
    // The row by the list's own renderer, the updates around it by their compiled template: no file lookup, no copy of every local.
    const rowHtml = rowRenderer(pages, res, ownerOf(res).twoStepRequired)(row);
    pages.fragment(res, pages.partial('plugin/collaborations/_updates', UPDATES_PARTIAL)({ rowHtml, notice, listHtml: null }));
  }

  /**
   * Where a plain form goes back to: the details page it was opened from (`?from=details` on the
   * form's page, then a `back` field in the form), or the list at the row, on the page of the name
   * order that holds it (the owner keeps sight of whom the action was for).
   */
  async function backTo(req: Request, collaborator: Collaborator): Promise<string> {
    return fromDetails(req) ? `${urls.collaborators}/${collaborator.id}` : listAt(collaborator);
  }

  const fromDetails = (req: Request) => req.query.from === 'details' || req.body?.back === 'details';

  async function listAt(collaborator: Collaborator): Promise<string> {
    const page = await directory.pageOf(collaborator);
    return `${urls.collaborators}${page > 1 ? `?page=${page}` : ''}#collaborator-${collaborator.id}`;
  }

  /** The form of a change with input (`recreate`, `name`): a dialog for htmx, a page without JavaScript. */
  async function renderChangeForm(req: Request, res: Response, form: 'recreate' | 'name', values: Record<string, string>, errors: Record<string, string>, status = 200) {
    const collaborator = collaboratorOf(res);
    const locals = { collaborator, values, errors, back: await backTo(req, collaborator), fromDetails: fromDetails(req), inDialog: wantsFragment(req) };
    await pages.render(req, res, { page: `plugin/collaborations/${form}`, fragment: `plugin/collaborations/_${form}` }, locals, status);
  }

  function notice(res: Response, key: string, collaborator: Collaborator): string {
    return res.locals.t(`notice.${key}`, { name: collaborator.fullName });
  }

  /**
   * The list fragment: rendered rows come from the cache while the list's version is the same and no
   * shown link has expired since (see list-cache.ts), else from one read and one compiled row
   * template called per row (see list-rows.ts).
   */
  async function listHtml(res: Response, asked: Required<ListQuery>, position: PagePosition): Promise<Buffer> {
    const owner = ownerOf(res);
    const state = await directory.listState(owner);
    const now = feature.domain.clock.now();
    const key = [owner.id, state.version, res.locals.locale, asked.query, asked.status, asked.sort, asked.direction, position.page, position.after, position.before].join('\n');
    const cached = cache.get(key, now);
    if (cached !== undefined) return cached;
    const list = await directory.list(owner, { ...asked, ...position }, state);
    // The rule as of `state.version`, not as the owner's record read earlier in the request had it.
    const html = renderList(pages, res, list, { twoStepRequired: state.twoStepRequired, mailboxAddress: owner.address });
    cache.set(key, html, list.changesAt);
    return html;
  }

  // GET /settings/collaborations(?q=&status=&sort=&dir=&page=&after=&before=)
  router.get('/', async (req, res) => {
    const asked = listQueryOf(req.query);
    const html = await listHtml(res, asked, positionOf(req.query));
    if (wantsFragment(req)) return pages.fragment(res, html);
    await pages.render(req, res, { page: 'plugin/collaborations/index', pageLocals: INDEX_LOCALS }, { listHtml: html, asked, statuses: LIST_STATUSES, sorts: LIST_SORTS });
  });

  // POST /settings/collaborations/two-step-policy: whether collaborators must use two-step verification
  router.post('/two-step-policy', async (req, res, next) => {
    if (!feature.twoStepPolicy) return next();
    const required = req.body?.twoStepRequired === 'yes';
    await twoStep.setPolicy(ownerOf(res), required, actorOf(req, res));
    redirectWithNotice(feature, res, urls.collaborators, res.locals.t(required ? 'notice.twoStepRequired' : 'notice.twoStepOptional'));
  });

  // GET /settings/collaborations/new
  router.get('/new', async (req, res) => {
    await pages.render(req, res, { page: 'plugin/collaborations/new', fragment: 'plugin/collaborations/_form' }, { values: { accessLevel: 'read' }, errors: {} });
  });

  // POST /settings/collaborations
  router.post('/', async (req, res) => {
    const input = formInput(req.body ?? {});
    try {
      const collaborator = await collaborations.create(ownerOf(res), input, { actor: actorOf(req, res) });
      // The page of the list that shows the new row, scrolled to it and marked (`:target`).
      redirectWithNotice(feature, res, await listAt(collaborator), notice(res, 'created', collaborator));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      const values = { ...input, manageSettings: input.manageSettings === 'on' || input.manageSettings === 'true' };
      await pages.render(req, res, { page: 'plugin/collaborations/new', fragment: 'plugin/collaborations/_form' }, { values, errors: error.errors }, 422);
    }
  });

  /** The details page; `accessEnd` holds its end-of-access form's values and errors (422 when refused). */
  async function renderDetails(req: Request, res: Response, accessEnd = { values: accessEndFields(collaboratorOf(res).accessEndsAt), errors: {} as Record<string, string> }, status = 200) {
    const collaborator = collaboratorOf(res);
    const details = await directory.details(collaborator);
    await pages.render(req, res, { page: 'plugin/collaborations/show' }, { collaborator, ...details, accessEnd }, status);
  }

  // GET /settings/collaborations/:id
  router.get('/:id', async (req, res) => {
    await renderDetails(req, res);
  });

  // GET /settings/collaborations/:id/extension: the reminder email's link; proposes a new end, changes nothing
  router.get('/:id/extension', async (req, res) => {
    const collaborator = collaboratorOf(res);
    const now = feature.domain.clock.now().getTime();
    const from = Math.max(collaborator.accessEndsAt?.getTime() ?? now, now);
    await pages.render(req, res, { page: 'plugin/collaborations/extension' }, { collaborator, values: accessEndFields(new Date(from + EXTENSION_MS)), errors: {} });
  });

  // POST /settings/collaborations/:id/access-end (`accessEndDate`, `accessEndTime`; both empty: no end)
  router.post('/:id/access-end', async (req, res) => {
    const values = accessEndInput(req.body ?? {});
    try {
      const collaborator = await collaborations.setAccessEnd(collaboratorOf(res), values, { actor: actorOf(req, res) });
      const ends = collaborator.accessEndsAt;
      const moved = ends && movedTime(values.accessEndTime, ends);
      const said = !ends
        ? notice(res, 'accessEndRemoved', collaborator)
        : [res.locals.t('notice.accessEndSet', { name: collaborator.fullName, date: res.locals.date(ends) }), ...(moved ? [res.locals.t('notice.accessEndShifted', moved)] : [])].join(' ');
      redirectWithNotice(feature, res, `${urls.collaborators}/${collaborator.id}`, said);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      if (req.body?.back !== 'extension') return renderDetails(req, res, { values, errors: error.errors }, 422);
      await pages.render(req, res, { page: 'plugin/collaborations/extension' }, { collaborator: collaboratorOf(res), values, errors: error.errors }, 422);
    }
  });

  // GET /settings/collaborations/:id/row: the row alone, which asks again while its last email is on its way
  router.get('/:id/row', async (req, res) => {
    if (!wantsFragment(req)) return res.redirect(303, `${urls.collaborators}/${collaboratorOf(res).id}`);
    const row = await directory.row(collaboratorOf(res));
    pages.fragment(res, rowRenderer(pages, res, ownerOf(res).twoStepRequired)(row));
  });

  // GET /settings/collaborations/:id/recreation: the corrected reference email's form
  router.get('/:id/recreation', async (req, res) => {
    await renderChangeForm(req, res, 'recreate', { referenceEmail: '' }, {});
  });

  // GET /settings/collaborations/:id/name
  router.get('/:id/name', async (req, res) => {
    const { firstName, lastName } = collaboratorOf(res);
    await renderChangeForm(req, res, 'name', { firstName, lastName }, {});
  });

  // GET /settings/collaborations/:id/<confirmation>: the dialog (htmx) or its page (no JavaScript)
  router.get('/:id/:confirmation', async (req, res, next) => {
    const name = req.params.confirmation as ConfirmationName;
    const confirmation = CONFIRMATIONS[name];
    if (!confirmation) return next();
    // In the dialog the form updates the row in place; on its own page it posts and comes back.
    const inDialog = wantsFragment(req);
    await pages.render(req, res, { page: 'plugin/collaborations/confirm', fragment: 'plugin/collaborations/_confirm' }, { collaborator: collaboratorOf(res), name, inDialog, back: await backTo(req, collaboratorOf(res)), fromDetails: fromDetails(req), ...confirmation });
  });

  // POST /settings/collaborations/:id/password-reset
  router.post('/:id/password-reset', async (req, res) => {
    const collaborator = await collaborations.resetPassword(collaboratorOf(res), { actor: actorOf(req, res), mailbox: ownerOf(res) });
    await respondWithRow(req, res, collaborator, notice(res, 'reset', collaborator));
  });

  // POST /settings/collaborations/:id/password-link
  router.post('/:id/password-link', async (req, res) => {
    const collaborator = await collaborations.resendLink(collaboratorOf(res), { actor: actorOf(req, res), mailbox: ownerOf(res) });
    await respondWithRow(req, res, collaborator, notice(res, 'resent', collaborator));
  });

  // POST /settings/collaborations/:id/deactivation
  router.post('/:id/deactivation', async (req, res) => {
    const collaborator = await collaborations.deactivate(collaboratorOf(res), { actor: actorOf(req, res), mailbox: ownerOf(res) });
    await respondWithRow(req, res, collaborator, notice(res, 'deactivated', collaborator));
  });

  // POST /settings/collaborations/:id/reactivation
  router.post('/:id/reactivation', async (req, res) => {
    const collaborator = await collaborations.reactivate(collaboratorOf(res), { actor: actorOf(req, res) });
    await respondWithRow(req, res, collaborator, notice(res, 'reactivated', collaborator));
  });

  // POST /settings/collaborations/:id/name
  router.post('/:id/name', async (req, res) => {
    const text = textOf(req.body ?? {});
    const values = { firstName: text('firstName'), lastName: text('lastName') };
    try {
      const collaborator = await collaborations.rename(collaboratorOf(res), values, { actor: actorOf(req, res) });
      redirectWithNotice(feature, res, await backTo(req, collaborator), notice(res, 'renamed', collaborator));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      await renderChangeForm(req, res, 'name', values, error.errors, 422);
    }
  });

  // POST /settings/collaborations/:id/access
  router.post('/:id/access', async (req, res) => {
    const body = req.body ?? {};
    const collaborator = await collaborations.changeAccess(
      collaboratorOf(res),
      { accessLevel: body.accessLevel, manageSettings: body.manageSettings ?? '' },
      { actor: actorOf(req, res) },
    );
    redirectWithNotice(feature, res, `${urls.collaborators}/${collaborator.id}`, notice(res, 'accessChanged', collaborator));
  });

  // POST /settings/collaborations/:id/recreation: a new account for the corrected reference email, the old one gone
  router.post('/:id/recreation', async (req, res) => {
    const old = collaboratorOf(res);
    const values = { referenceEmail: textOf(req.body ?? {})('referenceEmail') };
    try {
      const collaborator = await collaborations.recreate(old, values, { actor: actorOf(req, res) });
      redirectWithNotice(feature, res, await backTo(req, collaborator), notice(res, old.status === 'pending' ? 'invitationCorrected' : 'recreated', collaborator));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      await renderChangeForm(req, res, 'recreate', values, error.errors, 422);
    }
  });

  // DELETE /settings/collaborations/:id (htmx), or POST with _method=DELETE (plain form)
  router.delete('/:id', async (req, res) => {
    const collaborator = collaboratorOf(res);
    await collaborations.remove(collaborator, { actor: actorOf(req, res) });
    if (!wantsFragment(req)) return redirectWithNotice(feature, res, urls.collaborators, notice(res, 'removed', collaborator));
    // The list the owner was looking at, again: its count and rows without the removed one.
    const shown = listShown(req);
    const html = shown ? await listHtml(res, listQueryOf(shown), positionOf(shown)) : null;
    pages.fragment(res, await pages.pieces(res, 'plugin/collaborations/_updates', { rowHtml: null, notice: notice(res, 'removed', collaborator), listHtml: html }));
  });

  /** The query of the list page an htmx request came from (HX-Current-URL), or null when it came from another page. */
  function listShown(req: Request): Record<string, string> | null {
    try {
      const url = new URL(req.get('HX-Current-URL') ?? '');
      return url.pathname === urls.collaborators ? Object.fromEntries(url.searchParams) : null;
    } catch {
      return null;
    }
  }

  return router;
}
