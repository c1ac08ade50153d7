import type { Knex } from 'knex';

/**
 * Protection: the sites a policy spans, the Keystone trust long and scheduled
 * work acts through, schedules and retention, tenant-registered sites, and
 * the checkpoints written to the backup site's bank.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('policies', (t) => {
    // Where the policy's resources run; the backup site (backup_site) holds the bank.
    t.string('primary_site', 255);
    // Trust from the policy's creator to Dragon's service user (deferred auth, like Heat).
    t.string('trust_id', 64);
    t.jsonb('schedule');
    t.jsonb('retention');
    t.timestamp('next_run_at', { useTz: true }).index();
    t.timestamp('last_run_at', { useTz: true });
  });

  await knex.schema.createTable('sites', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 64).notNullable().index();
    t.string('name', 255).notNullable();
    t.string('auth_url', 1024).notNullable();
    t.string('region_name', 255);
    t.string('interface', 32).notNullable().defaultTo('public');
    t.string('application_credential_id', 255).notNullable();
    // AES-256-GCM ciphertext of the application credential secret: never returned, never logged.
    t.text('application_credential_secret_enc').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['project_id', 'name']);
  });

  await knex.schema.createTable('checkpoints', (t) => {
    t.uuid('id').primary();
    t.uuid('policy_id').index();
    t.string('policy_name', 255).notNullable();
    t.string('project_id', 64).notNullable().index();
    t.uuid('execution_id');
    t.string('site', 255).notNullable();
    t.string('container', 255).notNullable();
    t.string('status', 32).notNullable().index();
    t.bigInteger('size_bytes').notNullable().defaultTo(0);
    t.integer('object_count').notNullable().defaultTo(0);
    t.jsonb('summary').notNullable().defaultTo('{}');
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('checkpoints');
  await knex.schema.dropTableIfExists('sites');
  await knex.schema.alterTable('policies', (t) => {
    for (const c of ['primary_site', 'trust_id', 'schedule', 'retention', 'next_run_at', 'last_run_at'])
      t.dropColumn(c);
  });
}
