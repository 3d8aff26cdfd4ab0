import { Router, type Request, type Response } from 'express';
import { NotFound, ValidationFailed } from '../../domain/errors';
import type { NoticeChoices, NoticeForm } from '../../domain/owner-notices';
import { OWNER_NOTICE_EVENTS } from '../../models';
import { actorOf, ownerOf, redirectWithNotice, type Feature } from '../context';

const VIEWS = { page: 'plugin/notifications/show' } as const;
const CONFIRM = { page: 'plugin/notifications/confirm' } as const;
const INVALID = { page: 'plugin/notifications/invalid' } as const;
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

function formOf(req: Request): NoticeForm {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  const events = ([] as unknown[]).concat(body.events ?? []).filter((value): value is string => typeof value === 'string');
  return { address: text('address'), events, delivery: text('delivery'), digestHour: text('digestHour') };
}

/** The form as the choices fill it: the pending address while its link is live, else the confirmed one ('' for the mailbox). */
function valuesOf(choices: NoticeChoices): NoticeForm {
  const address = choices.pending?.address ?? (choices.addressIsMailbox ? '' : choices.address);
  return { address, events: choices.events, delivery: choices.digestHour === null ? 'immediate' : 'digest', digestHour: String(choices.digestHour ?? 18) };
}

/**
 * Collaborations → Notifications: what the owner is told about collaborators, where and when. An
 * address other than the mailbox is used once its owner opens the link emailed to it
 * (`/notifications/address/:token`, signed in as this mailbox's owner). Mounted at `/notifications`
 * of the collaborators' part.
 */
export function noticeSettingsRouter(feature: Feature): Router {
  const { ownerNotices } = feature.domain;
  const router = Router();
  const locals = { events: OWNER_NOTICE_EVENTS, hours: HOURS };
  const settingsUrl = `${feature.urls.collaborators}/notifications`;

  /** The settings page; `values` and `errors` of a refused form when given. */
  async function show(req: Request, res: Response, refused?: { values: NoticeForm; errors: Record<string, string> }) {
    const choices = await ownerNotices.choices(ownerOf(res));
    const page = refused ?? { values: valuesOf(choices), errors: {} };
    await feature.pages.render(req, res, VIEWS, { ...locals, ...page, choices }, refused ? 422 : 200);
  }

  // GET /settings/collaborations/notifications
  router.get('/', (req, res) => show(req, res));

  // POST /settings/collaborations/notifications
  router.post('/', async (req, res) => {
    const input = formOf(req);
    try {
      const choices = await ownerNotices.save(ownerOf(res), input, { actor: actorOf(req, res) });
      redirectWithNotice(feature, res, settingsUrl, res.locals.t(choices.pending ? 'notifications.requested' : 'notifications.saved'));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      await show(req, res, { values: input, errors: error.errors });
    }
  });

  // POST /settings/collaborations/notifications/address: the link for the pending address, again
  router.post('/address', async (req, res) => {
    try {
      await ownerNotices.resendAddressLink(ownerOf(res), { actor: actorOf(req, res) });
      redirectWithNotice(feature, res, settingsUrl, res.locals.t('notifications.resent'));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      const choices = await ownerNotices.choices(ownerOf(res));
      await show(req, res, { values: valuesOf(choices), errors: error.errors });
    }
  });

  /** The page of an address link: 404 for another mailbox's live link, the invalid page (410) for a dead one. */
  async function linkPage(req: Request, res: Response): Promise<boolean> {
    // The token is in the path: never sent on as a Referer.
    res.set('Referrer-Policy', 'no-referrer');
    const state = await ownerNotices.addressLink(ownerOf(res), String(req.params.token));
    if (state === 'elsewhere') throw new NotFound('address link');
    if (state === 'invalid') await feature.pages.render(req, res, INVALID, {}, 410);
    return state === 'live';
  }

  // GET /settings/collaborations/notifications/address/:token: asks, changes nothing (mail scanners open links)
  router.get('/address/:token', async (req, res) => {
    if (!(await linkPage(req, res))) return;
    const { pending } = await ownerNotices.choices(ownerOf(res));
    await feature.pages.render(req, res, CONFIRM, { address: pending?.address ?? '', token: String(req.params.token) });
  });

  // POST /settings/collaborations/notifications/address/:token
  router.post('/address/:token', async (req, res) => {
    if (!(await linkPage(req, res))) return;
    const address = await ownerNotices.confirmAddress(ownerOf(res), String(req.params.token), { actor: actorOf(req, res) });
    if (address === null) return feature.pages.render(req, res, INVALID, {}, 410);
    redirectWithNotice(feature, res, settingsUrl, res.locals.t('notifications.confirmed', { address }));
  });

  return router;
}
