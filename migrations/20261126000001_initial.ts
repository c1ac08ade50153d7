import type { Knex } from 'knex';

/**
 * The spine's schema: workload policies and their resources, executions and
 * their per-resource steps, and the services table. Every tenant-owned row
 * carries project_id so that one project never reads another's rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('policies', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 64).notNullable().index();
    t.string('user_id', 64);
    t.string('name', 255).notNullable();
    t.text('description').notNullable().defaultTo('');
    t.string('backup_site', 255);
    t.string('status', 32).notNullable().defaultTo('available');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['project_id', 'name']);
  });

  await knex.schema.createTable('policy_resources', (t) => {
    t.uuid('id').primary();
    t.uuid('policy_id').notNullable().references('policies.id').onDelete('CASCADE');
    t.string('project_id', 64).notNullable().index();
    t.string('resource_id', 255).notNullable();
    t.string('resource_type', 255).notNullable();
    t.string('resource_name', 255);
    t.string('action', 255).notNullable();
    t.jsonb('options').notNullable().defaultTo('{}');
    t.boolean('required').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['policy_id', 'resource_id']);
  });

  await knex.schema.createTable('executions', (t) => {
    t.uuid('id').primary();
    t.string('kind', 64).notNullable();
    t.string('status', 32).notNullable().index();
    t.float('progress').notNullable().defaultTo(0);
    t.jsonb('progress_detail').notNullable().defaultTo('{}');
    t.text('error');
    t.uuid('policy_id').index();
    t.string('project_id', 64).notNullable().index();
    t.string('user_id', 64);
    t.string('request_id', 64);
    t.jsonb('params').notNullable().defaultTo('{}');
    t.jsonb('result');
    t.string('claimed_by', 255);
    t.uuid('claim_token');
    t.integer('claims').notNullable().defaultTo(0);
    t.timestamp('heartbeat_at', { useTz: true });
    t.boolean('cancel_requested').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
  });

  await knex.schema.createTable('execution_steps', (t) => {
    t.uuid('id').primary();
    t.uuid('execution_id').notNullable().references('executions.id').onDelete('CASCADE').index();
    t.string('name', 255).notNullable();
    t.string('resource_id', 255);
    t.string('resource_type', 255);
    t.string('action', 255).notNullable();
    t.jsonb('depends_on').notNullable().defaultTo('[]');
    t.jsonb('params').notNullable().defaultTo('{}');
    t.string('status', 32).notNullable();
    t.float('progress').notNullable().defaultTo(0);
    t.text('error');
    t.jsonb('result');
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('claimed_by', 255);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.unique(['execution_id', 'name']);
  });

  await knex.schema.createTable('services', (t) => {
    t.uuid('id').primary();
    t.string('host', 255).notNullable();
    t.string('binary', 64).notNullable();
    t.string('version', 64).notNullable();
    t.jsonb('plugins').notNullable().defaultTo('[]');
    t.timestamp('last_heartbeat_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.unique(['host', 'binary']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['execution_steps', 'executions', 'policy_resources', 'policies', 'services']) {
    await knex.schema.dropTableIfExists(table);
  }
}
