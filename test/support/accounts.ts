import { Op } from 'sequelize';
import { expect } from 'chai';
import type request from 'supertest';
import { Browser, GOOD_PASSWORD, newCollaborator, type Harness } from './harness';
import { Sealer } from '../../src/lib/secrets';
import type { EmailTemplate } from '../../src/mail/message-types';
import type { NewCollaborator } from '../../src/domain/collaborators';
import { system } from '../../src/domain/actor';
import type { Collaborator, Link, Mailbox, Status } from '../../src/models';

/** Adds a collaborator through the owner's browser (the page must have been loaded for its token), with `headers` on the request. */
export async function addCollaborator(h: Harness, owner: Browser, mailbox: string, overrides: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Collaborator> {
  const res = await owner.post('/settings/collaborations', newCollaborator(overrides), headers);
  expect(res.status, res.text).to.equal(303);
  const username = `${overrides.username ?? 'mario.rossi'}/${mailbox}`;
  return (await h.db.models.Collaborator.findOne({ where: { username } })) as Collaborator;
}

/**
 * A collaborator of `mailbox` brought to `status` through the domain, without a browser: created,
 * then (unless pending) its password set through its link, then reset or deactivated.
 */
export async function collaboratorIn(h: Harness, mailbox: Mailbox, status: Status, input: NewCollaborator, password = GOOD_PASSWORD): Promise<Collaborator> {
  const c = await h.domain.collaborations.create(mailbox, input, { actor: system });
  if (status === 'pending') return c;
  const link = (await h.db.models.Link.findOne({ where: { collaboratorId: c.id }, order: [['id', 'DESC']] })) as Link;
  const active = await h.domain.selfService.setPasswordWithLink(link, password, password);
  if (status === 'suspended') return h.domain.collaborations.resetPassword(active, { actor: system });
  if (status === 'deactivated') return h.domain.collaborations.deactivate(active, { actor: system });
  return active;
}

/** The collaborator's row as stored now. */
export async function reload(h: Harness, c: Collaborator): Promise<Collaborator> {
  return (await h.db.models.Collaborator.findByPk(c.id)) as Collaborator;
}

/**
 * The links in the emails queued for a collaborator (`template`: of that email only), oldest
 * first, read from the outbox as the emails will carry them. A delivered email no longer holds
 * its link (the outbox drops it once sent).
 */
export async function emailedLinks(h: Harness, c: Collaborator, template?: EmailTemplate): Promise<string[]> {
  const where = { collaboratorId: c.id, secret: { [Op.ne]: null }, ...(template ? { template } : {}) };
  const messages = await h.db.models.OutboxMessage.findAll({ where, order: [['id', 'ASC']] });
  const sealer = new Sealer(h.config.sessionSecret);
  return messages.map((m) => sealer.open(m.secret as string));
}

/** The raw token of the set-password link in `text` (a link, or an email's text holding one). */
export function linkToken(text: string): string {
  const match = /\/password\/([A-Za-z0-9_-]{43})/.exec(text);
  if (!match) throw new Error('no set-password link in the text');
  return match[1] as string;
}

/** The raw tokens of those links, oldest first. */
export async function emailedTokens(h: Harness, c: Collaborator, template?: EmailTemplate): Promise<string[]> {
  return (await emailedLinks(h, c, template)).map(linkToken);
}

/** The raw token of the collaborator's latest emailed link, as the collaborator would read it. */
export async function latestLinkToken(h: Harness, c: Collaborator, template?: EmailTemplate): Promise<string> {
  const tokens = await emailedTokens(h, c, template);
  expect(tokens, `a queued ${template ?? 'link'} email`).not.to.be.empty;
  return tokens[tokens.length - 1] as string;
}

/** Opens the link as the email's reader would: the token goes into the session, then the form. */
export async function openLink(h: Harness, token: string, browser = new Browser(h.app)): Promise<{ browser: Browser; form: request.Response }> {
  const first = await browser.get(`/password/${token}`);
  expect(first.status).to.equal(303);
  expect(first.headers.location).to.equal('/password/new');
  return { browser, form: await browser.get('/password/new') };
}

/** Opens the link and sets the password through it, as the collaborator would; `res` is the final answer. */
export async function setPasswordByLink(h: Harness, token: string, password = GOOD_PASSWORD, browser = new Browser(h.app)) {
  const { form } = await openLink(h, token, browser);
  const res = await browser.post('/password/new', { password, passwordConfirmation: password });
  return { browser, form, res };
}

/** Sets the password through the collaborator's latest link; it must be accepted. */
export async function activate(h: Harness, c: Collaborator, password = GOOD_PASSWORD): Promise<void> {
  const { res } = await setPasswordByLink(h, await latestLinkToken(h, c), password);
  expect(res.status, res.text).to.equal(200);
}

/** The add form's fields for a collaborator with mail-program access, its address at example.org unless given. */
export const person = (firstName: string, lastName: string, username: string, referenceEmail = `${username}@example.org`): NewCollaborator => ({
  firstName,
  lastName,
  username,
  referenceEmail,
  accessLevel: 'mail_clients',
  manageSettings: '',
});

/** The links of the confirmation emails (notice_address) queued for `mailbox`, oldest first, as the emails carry them. */
export async function addressLinks(h: Harness, mailbox: Mailbox): Promise<string[]> {
  const where = { mailboxId: mailbox.id, template: 'notice_address', secret: { [Op.ne]: null } };
  const messages = await h.db.models.OutboxMessage.findAll({ where, order: [['id', 'ASC']] });
  const sealer = new Sealer(h.config.sessionSecret);
  return messages.map((m) => sealer.open(m.secret as string));
}

/** The owner of `mailbox` as the actor of a change made in a test. */
export const ownerActor = (mailbox: Mailbox) => ({ type: 'owner', id: mailbox.id, name: mailbox.address }) as const;

/**
 * Saves the owner's notification choices through the domain; an `address` other than the mailbox is
 * then confirmed with the link emailed to it, as its owner would, so that it is in use.
 */
export async function saveNoticeChoices(h: Harness, mailbox: Mailbox, choice: { address: string; events: string[]; delivery: string; digestHour: string }): Promise<void> {
  const actor = ownerActor(mailbox);
  const { pending } = await h.domain.ownerNotices.save(mailbox, choice, { actor });
  if (!pending) return;
  const token = (await addressLinks(h, mailbox)).at(-1)?.split('/').at(-1) as string;
  expect(await h.domain.ownerNotices.confirmAddress(mailbox, token, { actor })).to.equal(pending.address);
}
