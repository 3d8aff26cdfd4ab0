import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { startHarness, type Harness } from '../support/harness';
import { createLogger } from '../../src/logger';
import { startWorker } from '../../src/mail/worker';

for (const { name, create } of DATABASES) {
  describe(`outbox worker (${name})`, function () {
    let database: TestDatabase;
    let h: Harness;

    beforeEach(async function () {
      database = await create();
      h = await startHarness(database.url);
    });

    afterEach(async function () {
      await h.close();
      await database.drop();
    });

    it('should drain a backlog of several batches at once, not one batch per tick', async function () {
      const total = 120; // the harness claims 50 per pass
      await h.db.transaction(async (t) => {
        for (let i = 0; i < total; i++) {
          await h.domain.outbox.enqueueEmail(
            {
              template: 'password_set',
              to: `reader${i}@example.org`,
              locale: 'it',
              mailboxId: 1,
              collaboratorId: 1,
              payload: { firstName: 'Ada', lastName: `Rossi ${i}`, username: `ada${i}/studio@pec.example.it`, mailbox: 'studio@pec.example.it', accessLevel: 'read' },
            },
            t,
          );
        }
      });
      // The next tick is an hour away: only the passes that follow a productive pass can deliver the rest.
      const worker = startWorker(h.domain.outbox, h.deliver, createLogger('silent'), 3_600_000);
      worker.poke();
      const sent = () => h.db.models.OutboxMessage.count({ where: { status: 'sent' } });
      const deadline = Date.now() + 20_000;
      while ((await sent()) < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await worker.stop();
      expect(await sent()).to.equal(total);
    });
  });
}
