/**
 * One fresh database per test file on the private PostgreSQL server started
 * by the global setup, so files running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** postgresql:// URL of the new, empty database. */
  url: string;
  name: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** URL of the private server's `postgres` database; fails clearly outside the test run. */
export function postgresServerUrl(): string {
  const url = process.env.DRAGON_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'DRAGON_TEST_PG_URL is not set: run the tests through vitest with test/support/global-setup.ts (npm test)',
    );
  }
  return url;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  // Lower-case letters, digits and _ only, so the name needs no quoting rules beyond "".
  const name = `dragon_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(postgresServerUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
