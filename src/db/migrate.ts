import path from 'node:path';
import { Umzug, SequelizeStorage } from 'umzug';
import type { QueryInterface, Sequelize } from 'sequelize';

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
}

type MigrationStep = (params: { context: MigrationContext }) => Promise<void>;
interface MigrationModule {
  up: MigrationStep;
  down: MigrationStep;
}

/**
 * The migrations beside this code: migrations/*.ts next to src/ (tsx), or dist/migrations/*.js next
 * to dist/src/ (compiled by scripts/build.mjs). Each keeps the name of its .ts file, so a database
 * migrated by either runs nothing twice.
 */
const MIGRATIONS = path.resolve(__dirname, '..', '..', 'migrations');
const EXTENSION = path.extname(__filename);

export function migrator(sequelize: Sequelize): Umzug<MigrationContext> {
  return new Umzug<MigrationContext>({
    migrations: {
      glob: [`*${EXTENSION}`, { cwd: MIGRATIONS }],
      // Loaded with require: the migrations are CommonJS, like the rest of the app.
      resolve: ({ name, path: file, context }) => {
        const migration = require(file as string) as MigrationModule;
        return { name: `${path.basename(name, EXTENSION)}.ts`, up: () => migration.up({ context }), down: () => migration.down({ context }) };
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
