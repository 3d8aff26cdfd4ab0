import path from 'node:path';
import { Umzug, SequelizeStorage } from 'umzug';
import type { QueryInterface, Sequelize } from 'sequelize';
import { ROOT } from '../config';

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
}

type MigrationStep = (params: { context: MigrationContext }) => Promise<void>;
interface MigrationModule {
  up: MigrationStep;
  down: MigrationStep;
}

export function migrator(sequelize: Sequelize): Umzug<MigrationContext> {
  return new Umzug<MigrationContext>({
    migrations: {
      glob: ['migrations/*.ts', { cwd: ROOT }],
      // Loaded with require: the migrations are CommonJS TypeScript, like the rest of the app.
      resolve: ({ name, path: file, context }) => {
        const migration = require(file as string) as MigrationModule;
        return { name, up: () => migration.up({ context }), down: () => migration.down({ context }) };
      },
    },
    context: { queryInterface: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
}

export async function migrate(sequelize: Sequelize): Promise<string[]> {
  const done = await migrator(sequelize).up();
  return done.map((m) => path.basename(m.name));
}
