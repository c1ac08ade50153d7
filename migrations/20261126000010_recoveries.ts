import type { Knex } from 'knex';

/**
 * Recoveries: a checkpoint brought back at a site as a Heat stack (or only
 * planned, for a dry run). Everything a recovery needs comes from the bank,
 * so a row here may name a checkpoint this database has never seen.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('recoveries', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 64).notNullable().index();
    t.string('user_id', 64);
    // The checkpoint as the bank names it: its id (from the container metadata) and container.
    t.string('checkpoint_id', 64).notNullable();
    t.string('container', 255).notNullable();
    // The Swift account the container lives in, when it is not the project's own (read through an ACL).
    t.string('bank_account', 255);
    t.string('bank_site', 255).notNullable();
    // Where the workload is brought back.
    t.string('site', 255).notNullable();
    t.string('policy_name', 255);
    t.string('stack_name', 255).notNullable();
    t.string('stack_id', 64);
    t.string('status', 32).notNullable().index();
    t.boolean('dry_run').notNullable().defaultTo(false);
    t.boolean('drill').notNullable().defaultTo(false);
    t.string('on_failure', 16).notNullable().defaultTo('rollback');
    t.jsonb('mapping').notNullable().defaultTo('{}');
    // Trust from the requester to Dragon's service user, so the engine acts for the project.
    t.string('trust_id', 64);
    t.uuid('execution_id');
    t.jsonb('plan');
    t.jsonb('result');
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('recoveries');
}
