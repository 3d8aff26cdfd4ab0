import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DATABASES } from '../support/databases';
import { harnessPerSuite, signedInOwner, type Harness } from '../support/harness';
import { collaboratorIn, person } from '../support/accounts';
import { keepListState, listChanged, takeListState } from '../../src/db/list-versions';
import type { Mailbox } from '../../src/models';

const MAILBOX = 'studio.richieste@pec.example.it';
const OTHER = 'studio.accanto@pec.example.it';

for (const { name, create } of DATABASES) {
  describe(`What every signed-in request reads (${name})`, function () {
    let h: Harness;

    harnessPerSuite(create, { mailboxes: [MAILBOX, OTHER] }, (harness) => {
      h = harness;
    });

    const mailbox = async (address: string) => (await h.db.models.Mailbox.findOne({ where: { address } })) as Mailbox;

    /** How many statements `work` sends to the database (Sequelize's hooks hear plain statements too). */
    async function statementsOf(work: () => Promise<unknown>): Promise<number> {
      let count = 0;
      h.db.sequelize.addHook('beforeQuery', 'count', () => {
        count += 1;
      });
      try {
        await work();
      } finally {
        h.db.sequelize.removeHook('beforeQuery', 'count');
      }
      return count;
    }

    it("should answer the owner's list page, already rendered, with one statement: the session, the owner and the list's version", async function () {
      const owner = await signedInOwner(h.app, MAILBOX);
      const statements = await statementsOf(async () => expect((await owner.get('/settings/collaborations')).status).to.equal(200));
      expect(statements).to.equal(1);
    });

    it('should still show a change the request itself made before reading the list', async function () {
      const own = await mailbox(MAILBOX);
      const [row] = await h.db.sequelize.query<Record<string, unknown>>('SELECT version AS l_version, collaborators AS l_collaborators FROM collaborator_lists WHERE mailbox_id = ?', {
        replacements: [own.id],
        type: QueryTypes.SELECT,
      });
      keepListState(own, row as Record<string, unknown>);
      await collaboratorIn(h, own, 'pending', person('Ugo', 'Riva', 'ugo.riva'));
      const state = await h.domain.directory.listState(own);
      expect(state.version).to.be.above(Number(row?.l_version));
      expect(state.collaborators).to.equal(Number(row?.l_collaborators) + 1);
    });

    it('should use a list state kept with the record once, and read it again after', async function () {
      const own = await mailbox(MAILBOX);
      keepListState(own, { l_version: 41, l_collaborators: 7 });
      expect(takeListState(own)).to.deep.equal({ version: 41, collaborators: 7, twoStepRequired: false });
      expect(takeListState(own)).to.equal(undefined);
      keepListState(own, { l_version: 41, l_collaborators: 7 });
      await listChanged(h.db.sequelize, { mailboxId: (await mailbox(OTHER)).id }, undefined);
      expect(takeListState(own)).to.equal(undefined);
    });

    it("should read the account again when the session's row holds another one", async function () {
      const own = await mailbox(MAILBOX);
      const other = await mailbox(OTHER);
      const { columns, joins } = h.domain.accounts.sessionAccount;
      await h.db.models.Session.create({ sid: 'read-with-other', expires: new Date(Date.now() + 60_000), data: '{}', principal: `owner:${other.id}` });
      const row = await h.db.sequelize.query<Record<string, unknown>>(`SELECT ${columns} FROM sessions s ${joins} WHERE s.sid = 'read-with-other'`, { type: QueryTypes.SELECT, plain: true });
      expect(row?.m_address).to.equal(OTHER);
      const signedIn = await h.domain.accounts.resolve({ principal: { type: 'owner', id: own.id }, credentialVersion: own.credentialVersion }, row ?? undefined);
      expect(signedIn?.type === 'owner' && signedIn.mailbox.address).to.equal(MAILBOX);
    });
  });
}
