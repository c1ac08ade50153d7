import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import { dragonTypes } from './timestamps.js';

// Timestamps come back as Date (timestamptz) — ISO strings are made at the API edge.
// Bigints (count(*)) come back as numbers: our counts never approach 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export interface DatabaseSettings {
  /** postgresql:// URL, or empty for the embedded PGlite under statePath. */
  connection: string;
  statePath: string;
  maxPoolSize: number;
}

export type Database = Knex;

/** True when the database is the embedded single-connection PGlite. */
export function isEmbedded(db: Database): boolean {
  return db.client.config.client === ClientPgLite;
}

export function embeddedDataDir(statePath: string): string {
  return resolve(statePath, 'db');
}

export function openDatabase(settings: DatabaseSettings): Database {
  if (!settings.connection) {
    const dir = embeddedDataDir(settings.statePath);
    mkdirSync(dir, { recursive: true });
    return knexFactory({
      client: ClientPgLite,
      dialect: 'postgres',
      connection: { filename: dir },
    } as Knex.Config);
  }
  if (!/^postgres(ql)?:\/\//.test(settings.connection)) {
    throw new Error('[database] connection must be a postgresql:// URL or empty for the embedded database');
  }
  return knexFactory({
    client: 'pg',
    // Dragon's pool only: other pg users in the process keep pg's own parsers.
    connection: { connectionString: settings.connection, types: dragonTypes },
    pool: { min: 0, max: settings.maxPoolSize },
    acquireConnectionTimeout: 30_000,
  });
}
