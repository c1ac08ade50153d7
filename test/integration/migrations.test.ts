/**
 * The schema migrations on both database engines Dragon supports: a real
 * PostgreSQL server and the embedded PGlite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, isEmbedded, openDatabase } from '../../services/common/db/connection.js';
import {
  latestVersion,
  requireCurrentSchema,
  SchemaBehindError,
  schemaVersion,
  syncSchema,
} from '../../services/common/db/migrate.js';
import { createTestDatabase } from '../support/pg.js';

const TABLES = ['policies', 'policy_resources', 'executions', 'execution_steps', 'services'];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function openPostgres(): Promise<Database> {
  const database = await createTestDatabase();
  const db = openDatabase({ connection: database.url, statePath: '', maxPoolSize: 2 });
  cleanups.push(
    () => database.drop(),
    () => db.destroy(),
  );
  return db;
}

function openPglite(): Database {
  const statePath = mkdtempSync(join(tmpdir(), 'dragon-test-state-'));
  const db = openDatabase({ connection: '', statePath, maxPoolSize: 1 });
  cleanups.push(
    async () => rmSync(statePath, { recursive: true, force: true }),
    async () => {
      // knex-pglite starts PGlite eagerly but closes it only if a connection was ever acquired:
      // without this query an unused instance would still be booting when its directory is removed.
      await db.raw('select 1');
      await db.destroy();
    },
  );
  return db;
}

async function tablesOf(db: Database): Promise<string[]> {
  return db('information_schema.tables').where({ table_schema: 'public' }).pluck<string[]>('table_name');
}

describe.each([
  ['PostgreSQL server', openPostgres],
  ['embedded PGlite', async () => openPglite()],
])('migrations on %s', (_engine, open) => {
  it('refuses to serve an empty database and names the command that fixes it', async () => {
    const db = await open();
    expect(await schemaVersion(db)).toBeNull();
    const refusal = requireCurrentSchema(db);
    await expect(refusal).rejects.toBeInstanceOf(SchemaBehindError);
    await expect(refusal).rejects.toThrow(/dragon-manage db sync/);
  });

  it('brings an empty database to the latest schema, and a second sync changes nothing', async () => {
    const db = await open();
    const applied = await syncSchema(db);
    expect(applied.at(-1)).toBe(latestVersion());
    expect(await tablesOf(db)).toEqual(expect.arrayContaining(TABLES));
    expect(await schemaVersion(db)).toBe(latestVersion());
    await expect(requireCurrentSchema(db)).resolves.toBeUndefined();
    expect(await syncSchema(db)).toEqual([]);
  });
});

it('opens the embedded PGlite when no connection is configured', () => {
  expect(isEmbedded(openPglite())).toBe(true);
});
