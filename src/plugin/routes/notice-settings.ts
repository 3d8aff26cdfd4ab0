import { Router, type Request } from 'express';
import { ValidationFailed } from '../../domain/errors';
import type { NoticeForm } from '../../domain/owner-notices';
import { OWNER_NOTICE_EVENTS } from '../../models';
import { ownerOf, redirectWithNotice, type Feature } from '../context';

const VIEWS = { page: 'plugin/notifications/show' } as const;
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

function formOf(req: Request): NoticeForm {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  const events = ([] as unknown[]).concat(body.events ?? []).filter((value): value is string => typeof value === 'string');
  return { address: text('address'), events, delivery: text('delivery'), digestHour: text('digestHour') };
}

/** Collaborations → Notifications: what the owner is told about collaborators, where and when. */
export function noticeSettingsRouter(feature: Feature): Router {
  const { ownerNotices } = feature.domain;
  const router = Router();
  const locals = { events: OWNER_NOTICE_EVENTS, hours: HOURS };

  // GET /settings/collaborations/notifications
  router.get('/notifications', async (req, res) => {
    const choices = await ownerNotices.choices(ownerOf(res));
    const values = { address: choices.addressIsMailbox ? '' : choices.address, events: choices.events, delivery: choices.digestHour === null ? 'immediate' : 'digest', digestHour: String(choices.digestHour ?? 18) };
    await feature.pages.render(req, res, VIEWS, { ...locals, values, errors: {} });
  });

  // POST /settings/collaborations/notifications
  router.post('/notifications', async (req, res) => {
    const input = formOf(req);
    try {
      await ownerNotices.save(ownerOf(res), input);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      return feature.pages.render(req, res, VIEWS, { ...locals, values: input, errors: error.errors }, 422);
    }
    redirectWithNotice(feature, res, `${feature.urls.collaborators}/notifications`, res.locals.t('notifications.saved'));
  });

  return router;
}
