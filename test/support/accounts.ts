import { Op } from 'sequelize';
import { expect } from 'chai';
import { Browser, GOOD_PASSWORD, newCollaborator, type Harness } from './harness';
import { Sealer } from '../../src/lib/secrets';
import type { Collaborator } from '../../src/models';

/** Adds a collaborator through the owner's browser (the page must have been loaded for its token). */
export async function addCollaborator(h: Harness, owner: Browser, mailbox: string, overrides: Record<string, string> = {}): Promise<Collaborator> {
  const res = await owner.post('/settings/collaborations', newCollaborator(overrides));
  expect(res.status, res.text).to.equal(303);
  const username = `${overrides.username ?? 'mario.rossi'}/${mailbox}`;
  return (await h.db.models.Collaborator.findOne({ where: { username } })) as Collaborator;
}

/** The raw token of the collaborator's latest link, read from the queued email as the collaborator would. */
export async function latestLinkToken(h: Harness, c: Collaborator): Promise<string> {
  const message = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c.id, secret: { [Op.ne]: null } }, order: [['id', 'DESC']] });
  expect(message, 'a queued link email').to.exist;
  const link = new Sealer(h.config.sessionSecret).open((message as { secret: string }).secret);
  return link.split('/password/')[1] as string;
}

/** Sets the password through the link, as the collaborator would; returns the final answer. */
export async function setPasswordByLink(h: Harness, token: string, password = GOOD_PASSWORD, browser = new Browser(h.app)) {
  await browser.get(`/password/${token}`);
  await browser.get('/password/new');
  return browser.post('/password/new', { password, passwordConfirmation: password });
}

export async function activate(h: Harness, c: Collaborator, password = GOOD_PASSWORD): Promise<void> {
  const res = await setPasswordByLink(h, await latestLinkToken(h, c), password);
  expect(res.status, res.text).to.equal(200);
}
