import type { Domain } from './domain';
import type { Actor } from './domain/actor';
import type { AccessLevel } from './models';

export const DEMO = {
  mailbox: 'studio.rossi@pec.example.it',
  password: 'demo owner password 2026',
  collaboratorPassword: 'demo collaborator password 2026',
};

interface DemoPerson {
  firstName: string;
  lastName: string;
  username: string;
  accessLevel: AccessLevel;
  then?: 'activate' | 'suspend' | 'deactivate';
}

const PEOPLE: DemoPerson[] = [
  { firstName: 'Giulia', lastName: 'Bianchi', username: 'giulia.bianchi', accessLevel: 'mail_clients', then: 'activate' },
  { firstName: 'Marco', lastName: 'Verdi', username: 'marco.verdi', accessLevel: 'send', then: 'activate' },
  { firstName: 'Luca', lastName: 'Esposito', username: 'luca.esposito', accessLevel: 'read' },
  { firstName: 'Sara', lastName: 'Romano', username: 'sara.romano', accessLevel: 'write', then: 'suspend' },
  { firstName: 'Paolo', lastName: 'Colombo', username: 'paolo.colombo', accessLevel: 'read', then: 'deactivate' },
];

/** A demo mailbox with collaborators in every state, through the real domain (links, emails, log). */
export async function seedDemo(domain: Domain): Promise<boolean> {
  const { db, accounts, collaborations, selfService } = domain;
  if ((await db.models.Mailbox.count()) > 0) return false;
  const mailbox = await accounts.createMailbox(DEMO.mailbox, DEMO.password, { displayName: 'Studio Rossi' });
  const actor: Actor = { type: 'owner', id: mailbox.id, name: mailbox.address };
  for (const person of PEOPLE) {
    let collaborator = await collaborations.create(
      mailbox,
      { ...person, referenceEmail: `${person.username}@example.com`, manageSettings: false },
      { actor },
    );
    if (!person.then) continue;
    // Activate through the same path a link holder takes.
    const link = await db.models.Link.findOne({ where: { collaboratorId: collaborator.id }, order: [['id', 'DESC']] });
    if (person.then !== 'deactivate' && link) {
      collaborator = await selfService.setPasswordWithLink(link, DEMO.collaboratorPassword, DEMO.collaboratorPassword);
    }
    if (person.then === 'suspend') await collaborations.resetPassword(collaborator, { actor });
    if (person.then === 'deactivate') await collaborations.deactivate(collaborator, { actor });
  }
  return true;
}
