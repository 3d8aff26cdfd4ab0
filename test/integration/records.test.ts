import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DATABASES } from '../support/databases';
import { harnessPerSuite, type Harness } from '../support/harness';
import { collaboratorIn, person } from '../support/accounts';
import { PlainReader } from '../../src/db/records';
import { sqlDate } from '../../src/db/connection';
import type { Collaborator, Mailbox } from '../../src/models';

const MAILBOX = 'studio.letture@pec.example.it';

for (const { name, create } of DATABASES) {
  describe(`Records read by one plain statement (${name})`, function () {
    let h: Harness;
    let counter = 0;

    harnessPerSuite(create, { mailboxes: [MAILBOX] }, (harness) => {
      h = harness;
    });

    async function both(): Promise<{ mailbox: Mailbox; collaborator: Collaborator; read: { mailbox: Mailbox | null; collaborator: Collaborator | null } }> {
      const mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
      counter += 1;
      const added = await collaboratorIn(h, mailbox, 'active', { ...person('Lia', 'Neri', `lia.${counter}`), accessEndDate: '2031-05-04', accessEndTime: '18:30' });
      await h.db.models.Mailbox.update({ twoStepRequired: true, displayName: 'Studio' }, { where: { id: mailbox.id } });
      const mailboxes = new PlainReader(h.db.models.Mailbox, h.db.sequelize, 'm');
      const collaborators = new PlainReader(h.db.models.Collaborator, h.db.sequelize, 'c', { exclude: ['passwordHash'] });
      const row = await h.db.sequelize.query<Record<string, unknown>>(
        `SELECT ${collaborators.columns}, ${mailboxes.columns} FROM collaborators c JOIN mailboxes m ON m.id = c.mailbox_id WHERE c.id = ?`,
        { replacements: [added.id], type: QueryTypes.SELECT, plain: true },
      );
      return {
        mailbox: (await h.db.models.Mailbox.findByPk(mailbox.id)) as Mailbox,
        collaborator: (await h.db.models.Collaborator.findByPk(added.id, { attributes: { exclude: ['passwordHash'] } })) as Collaborator,
        read: { mailbox: row && mailboxes.read(row), collaborator: row && collaborators.read(row) },
      };
    }

    it('should give the values findByPk gives, of the same types, nothing changed and not new', async function () {
      const { mailbox, collaborator, read } = await both();
      expect(read.mailbox?.get({ plain: true })).to.deep.equal(mailbox.get({ plain: true }));
      expect(read.collaborator?.get({ plain: true })).to.deep.equal(collaborator.get({ plain: true }));
      expect(read.mailbox?.twoStepRequired).to.equal(true);
      expect(read.collaborator?.manageSettings).to.equal(false);
      expect(read.collaborator?.accessEndsAt).to.be.instanceOf(Date);
      expect(read.collaborator?.remindedEndAt).to.equal(null);
      expect(read.collaborator?.fullName).to.equal('Lia Neri');
      expect(read.collaborator?.changed()).to.equal(false);
      expect(read.collaborator?.isNewRecord).to.equal(false);
    });

    it('should update only what is changed on the instance it gives', async function () {
      const { collaborator, read } = await both();
      await read.collaborator?.update({ locale: 'es' });
      const stored = (await h.db.models.Collaborator.findByPk(collaborator.id)) as Collaborator;
      expect(stored.locale).to.equal('es');
      expect(stored.passwordHash).to.be.a('string');
      expect(stored.firstName).to.equal('Lia');
    });

    it('should give null for a row a LEFT JOIN did not find', async function () {
      const mailboxes = new PlainReader(h.db.models.Mailbox, h.db.sequelize, 'm');
      const row = await h.db.sequelize.query<Record<string, unknown>>(`SELECT 1 AS one, ${mailboxes.columns} FROM (SELECT 1 AS x) t LEFT JOIN mailboxes m ON m.id = -1`, {
        type: QueryTypes.SELECT,
        plain: true,
      });
      expect(row && mailboxes.read(row)).to.equal(null);
    });

    it('should give an instant (sqlDate) that stored dates compare with to the millisecond', async function () {
      for (const [i, expires] of [new Date('2026-03-29T01:59:59.999Z'), new Date('2031-12-31T23:00:00.000Z'), new Date()].entries()) {
        await h.db.models.Session.create({ sid: `instant-${i}`, expires, data: null, principal: null });
        const after = (moment: Date) =>
          h.db.sequelize.query('SELECT sid FROM sessions WHERE sid = ? AND expires > ?', { replacements: [`instant-${i}`, sqlDate(h.db.dialect, moment)], type: QueryTypes.SELECT });
        expect(await after(new Date(expires.getTime() - 1))).to.have.length(1);
        expect(await after(expires)).to.have.length(0);
      }
    });
  });
}
