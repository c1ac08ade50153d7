import type { Knex } from 'knex';

/**
 * Projects (or Swift accounts of another cloud) that may read a policy's
 * checkpoints: recovery with other credentials than the protecting project's.
 * Written as the read ACL of each new checkpoint container.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('policies', (t) => {
    t.jsonb('bank_readers').notNullable().defaultTo('[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('policies', (t) => {
    t.dropColumn('bank_readers');
  });
}
