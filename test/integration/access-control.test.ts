import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessWithOwner, type Harness } from '../support/harness';
import { activate, addCollaborator } from '../support/accounts';
import type { Collaborator } from '../../src/models';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'studio.verdi@pec.example.it';

type Method = 'get' | 'post' | 'delete';
interface OwnerRoute {
  method: Method;
  path: (id: number) => string;
  form?: Record<string, string>;
  /** The route names a collaborator: another mailbox's owner must get 404 as well. */
  byId: boolean;
}

/** Every route of the mailbox owner (Settings → Collaborations, Activity, Access history). */
const OWNER_ROUTES: OwnerRoute[] = [
  { method: 'get', path: () => '/settings/collaborations', byId: false },
  { method: 'get', path: () => '/settings/collaborations/new', byId: false },
  { method: 'post', path: () => '/settings/collaborations', form: { firstName: 'Eve', lastName: 'Spy', username: 'eve', referenceEmail: 'eve@evil.test', accessLevel: 'mail_clients' }, byId: false },
  { method: 'get', path: () => '/settings/activity', byId: false },
  { method: 'get', path: () => '/settings/activity.csv', byId: false },
  { method: 'get', path: () => '/settings/access-history', byId: false },
  { method: 'get', path: (id) => `/settings/collaborations/${id}`, byId: true },
  ...['password-reset', 'password-link', 'deactivation', 'recreation', 'reactivation', 'name', 'removal'].map((name) => ({ method: 'get' as const, path: (id: number) => `/settings/collaborations/${id}/${name}`, byId: true })),
  ...['password-reset', 'password-link', 'deactivation', 'reactivation'].map((name) => ({ method: 'post' as const, path: (id: number) => `/settings/collaborations/${id}/${name}`, byId: true })),
  { method: 'post', path: (id) => `/settings/collaborations/${id}/recreation`, form: { referenceEmail: 'eve@evil.test' }, byId: true },
  { method: 'post', path: (id) => `/settings/collaborations/${id}/name`, form: { firstName: 'Eve', lastName: 'Spy' }, byId: true },
  { method: 'post', path: (id) => `/settings/collaborations/${id}/access`, form: { accessLevel: 'read' }, byId: true },
  { method: 'post', path: (id) => `/settings/collaborations/${id}`, form: { _method: 'DELETE' }, byId: true },
  { method: 'delete', path: (id) => `/settings/collaborations/${id}`, byId: true },
];

for (const { name, create } of DATABASES) {
  describe(`Access control (${name})`, function () {
    let h: Harness;
    let owner: Browser;
    let target: Collaborator;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX, OTHER] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    beforeEach(async function () {
      target = await addCollaborator(h, owner, MAILBOX, { manageSettings: 'on' });
      await activate(h, target);
    });

    /** Everything a refused request could have changed. */
    async function snapshot(): Promise<unknown> {
      const { models } = h.db;
      const c = await models.Collaborator.findByPk(target.id);
      return {
        collaborator: c && [c.status, c.passwordHash, c.accessLevel, c.manageSettings, c.credentialVersion],
        collaborators: await models.Collaborator.count(),
        links: await models.Link.count(),
        emails: await models.OutboxMessage.count(),
        events: await models.AuditEvent.count(),
        sessions: await models.Session.count({ where: { principal: `collaborator:${target.id}` } }),
      };
    }

    async function send(browser: Browser, route: OwnerRoute, id: number) {
      const url = route.path(id);
      if (route.method === 'get') return browser.get(url);
      if (route.method === 'delete') return browser.agent.delete(url).set('X-CSRF-Token', browser.csrf);
      return browser.post(url, route.form ?? {});
    }

    it('should send a visitor with no session to /login from every owner route, changing nothing', async function () {
      const visitor = new Browser(h.app);
      await visitor.get('/login');
      expect(visitor.csrf, 'a valid token of an anonymous session').not.to.equal('');
      const before = await snapshot();
      for (const route of OWNER_ROUTES) {
        const res = await send(visitor, route, target.id);
        const where = `${route.method.toUpperCase()} ${route.path(target.id)}`;
        expect(res.status, where).to.equal(303);
        expect(res.headers.location, where).to.equal('/login');
      }
      expect(await snapshot()).to.deep.equal(before);
    });

    it('should answer 404 to a collaborator, even one that manages settings, on every owner route', async function () {
      expect(target.manageSettings).to.equal(true);
      const collaborator = new Browser(h.app);
      expect((await collaborator.signIn(target.username, GOOD_PASSWORD)).status).to.equal(303);
      await collaborator.get('/account');
      const before = await snapshot();
      for (const route of OWNER_ROUTES) {
        const res = await send(collaborator, route, target.id);
        expect(res.status, `${route.method.toUpperCase()} ${route.path(target.id)}`).to.equal(404);
      }
      expect(await snapshot()).to.deep.equal(before);
    });

    it('should answer 404 to another mailbox\'s owner on every route that names one of our collaborators', async function () {
      const other = new Browser(h.app);
      await other.signIn(OTHER, OWNER_PASSWORD);
      await other.get('/settings/collaborations');
      const before = await snapshot();
      for (const route of OWNER_ROUTES.filter((r) => r.byId)) {
        const res = await send(other, route, target.id);
        const where = `${route.method.toUpperCase()} ${route.path(target.id)}`;
        expect(res.status, where).to.equal(404);
        expect(res.text ?? '', where).not.to.include(target.username);
      }
      for (const route of OWNER_ROUTES.filter((r) => !r.byId && r.method === 'get')) {
        const res = await send(other, route, target.id);
        expect(res.status).to.equal(200);
        expect(String(res.text ?? res.body), route.path(0)).not.to.include(target.username);
      }
      expect(await snapshot()).to.deep.equal(before);
    });

    it('should give a collaborator that manages settings only its own pages, and no owner menu', async function () {
      const collaborator = new Browser(h.app);
      await collaborator.signIn(target.username, GOOD_PASSWORD);
      const account = await collaborator.get('/account');
      expect(account.status).to.equal(200);
      expect((await collaborator.get('/settings/password')).status).to.equal(200);
      for (const href of ['/settings/collaborations', '/settings/activity', '/settings/access-history']) {
        expect(account.text, href).not.to.include(`href="${href}"`);
      }
      expect((await collaborator.get('/')).headers.location).to.equal('/account');
    });
  });
}
