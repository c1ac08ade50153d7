/**
 * The ordered list of migrations. Listed in code rather than discovered on
 * disk so that the same list works from TypeScript sources (tests) and from
 * the compiled dist/ (services), without a loader for .ts files.
 */
import type { Knex } from 'knex';
import * as m001 from './20261126000001_initial.js';
import * as m002 from './20261126000002_protection.js';
import * as m003 from './20261126000003_bank_readers.js';
import * as m004 from './20261126000004_policy_list_versions.js';
import * as m010 from './20261126000010_recoveries.js';
import * as m011 from './20261126000011_checkpoint_references.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261126000001_initial', m001],
  ['20261126000002_protection', m002],
  ['20261126000003_bank_readers', m003],
  ['20261126000004_policy_list_versions', m004],
  ['20261126000010_recoveries', m010],
  ['20261126000011_checkpoint_references', m011],
];
