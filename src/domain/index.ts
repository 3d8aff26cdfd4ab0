import type { Config } from '../config';
import type { Database } from '../db';
import { Outbox, DEFAULT_WORKER_OPTIONS, type WorkerOptions } from '../mail/outbox';
import type { Clock } from './clock';
import { Accounts } from './accounts';
import { Audit } from './audit';
import { Collaborations } from './collaborators';
import { Links } from './links';
import { Sealer } from './secrets';

export interface Domain {
  db: Database;
  clock: Clock;
  config: Config;
  links: Links;
  outbox: Outbox;
  audit: Audit;
  accounts: Accounts;
  collaborations: Collaborations;
}

/** Wires the domain services to one database and one clock. */
export function createDomain(db: Database, config: Config, clock: Clock, workerOptions: WorkerOptions = DEFAULT_WORKER_OPTIONS): Domain {
  const links = new Links(db, clock, config.linkTtl);
  const outbox = new Outbox(db, clock, new Sealer(config.sessionSecret), workerOptions);
  const audit = new Audit(db, clock);
  const accounts = new Accounts(db, config);
  const collaborations = new Collaborations(db, clock, config, links, outbox, audit);
  return { db, clock, config, links, outbox, audit, accounts, collaborations };
}
