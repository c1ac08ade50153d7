/** Helpers for engine tests: a migrated database, sleeper steps, and reading the sleeper's journal. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import type { EngineSettings } from '../../services/engine/service.js';
import type { NewStep } from '../../services/engine/store.js';

export const TEST_PLUGIN_DIR = resolve(import.meta.dirname, '../plugins');

export async function embeddedTestDatabase(): Promise<Knex> {
  const db = openDatabase({
    connection: '',
    statePath: mkdtempSync(join(tmpdir(), 'dragon-db-')),
    maxPoolSize: 1,
  });
  await syncSchema(db);
  return db;
}

export function tempJournal(): string {
  return join(mkdtempSync(join(tmpdir(), 'dragon-journal-')), 'journal.jsonl');
}

export interface JournalLine {
  step: string;
  event: 'start' | 'finish' | 'failed' | 'transient' | 'aborted';
  attempt: number;
  pid: number;
  t: number;
}

export function readJournal(path: string): JournalLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Maximum number of steps running at the same time according to the journal. */
export function maxConcurrency(lines: JournalLine[]): number {
  let cur = 0;
  let max = 0;
  for (const l of [...lines].sort((a, b) => a.t - b.t || (a.event === 'start' ? 1 : -1))) {
    if (l.event === 'start') max = Math.max(max, ++cur);
    else cur--;
  }
  return max;
}

export function sleeperStep(
  name: string,
  params: Record<string, unknown>,
  dependsOn: string[] = [],
): NewStep {
  return {
    name,
    action: 'test-sleeper',
    resource_type: 'Dragon::Test::Sleeper',
    resource_id: `res-${name}`,
    depends_on: dependsOn,
    params,
  };
}

export function engineSettings(overrides: Partial<EngineSettings> = {}): EngineSettings {
  return {
    host: 'engine-test',
    maxParallelSteps: 4,
    heartbeatIntervalMs: 200,
    takeoverAfterS: 2,
    sweepIntervalMs: 200,
    maxExecutions: 4,
    stepRetries: 3,
    retryBackoffMs: 20,
    pluginDirectories: [TEST_PLUGIN_DIR],
    version: 'test',
    ...overrides,
  };
}

export async function waitForStatus(
  db: Knex,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db('executions').where({ id }).first();
    if (row && statuses.includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${row?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
