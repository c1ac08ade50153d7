import type { Knex } from 'knex';

/**
 * Objects of other checkpoint containers a checkpoint uses instead of its own
 * copy (an unchanged base image saved by an earlier checkpoint). Written when
 * a protect takes the reference — before its manifest exists — so that
 * deleting the older checkpoint (user or retention) keeps what a newer one,
 * available or still being written, needs; and so that deleting the last
 * checkpoint that used a retained container removes it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('checkpoint_references', (t) => {
    t.uuid('checkpoint_id').notNullable();
    /** The container that holds the bytes (the bank account is the checkpoint's site and project). */
    t.string('container', 255).notNullable();
    t.string('object', 1024).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable();
    /** The checkpoint that wrote the bytes. */
    t.uuid('source_checkpoint_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['checkpoint_id', 'object']);
    t.index(['container']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('checkpoint_references');
}
