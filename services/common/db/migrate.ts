import type { Knex } from 'knex';
import { type Migration, migrations } from '../../../migrations/index.js';

class ListedMigrations implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return migrations.map(([name]) => name);
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Migration> {
    const found = migrations.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  }
}

const config: Knex.MigratorConfig = {
  migrationSource: new ListedMigrations(),
  tableName: 'dragon_migrations',
};

/** `dragon-manage db sync`: applies every pending migration; returns their names. */
export async function syncSchema(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
  return applied;
}

/** `dragon-manage db version`: the newest applied migration, or null on an empty database. */
export async function schemaVersion(db: Knex): Promise<string | null> {
  const [done] = (await db.migrate.list(config)) as [Array<{ name: string } | string>, unknown[]];
  const last = done.at(-1);
  if (last === undefined) return null;
  return typeof last === 'string' ? last : last.name;
}

export function latestVersion(): string {
  return migrations.at(-1)![0];
}

export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
}

/** Services call this at start-up: they refuse to run against a schema that is behind the code. */
export async function requireCurrentSchema(db: Knex): Promise<void> {
  const [, pending] = (await db.migrate.list(config)) as [unknown[], unknown[]];
  if (pending.length > 0) {
    const current = (await schemaVersion(db)) ?? 'empty';
    throw new SchemaBehindError(
      `database schema is behind (at ${current}, code needs ${latestVersion()}): run "dragon-manage db sync"`,
    );
  }
}
