import type { Knex } from 'knex';

/**
 * A per-project change counter for policies and their resources, kept by
 * triggers so that every writer (any dragon-api worker, the engine's
 * scheduler, dragon-manage, a hand-run SQL fix) bumps it in the same
 * transaction as its change. dragon-api's policy list cache compares it in
 * one cheap round trip before serving a remembered page, which makes the
 * cache correct across processes: a committed change is always a new version.
 *
 * The bump locks the project's counter row until the writer commits, so
 * writers in one project serialise on it from their first policy write on.
 * Today every transaction that writes policies or resources commits right
 * after that write (nothing else is locked after it), so this cannot
 * deadlock; a future transaction that writes a policy and then waits on
 * another lock must keep that in mind.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('policy_list_versions', (t) => {
    t.string('project_id', 64).primary();
    t.bigInteger('version').notNullable();
  });
  await knex.raw(`
    create function dragon_bump_policy_list_version() returns trigger language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        update policy_list_versions set version = version + 1;
        return null;
      end if;
      if tg_op <> 'INSERT' then
        insert into policy_list_versions (project_id, version) values (old.project_id, 1)
          on conflict (project_id) do update set version = policy_list_versions.version + 1;
      end if;
      if tg_op <> 'DELETE' and (tg_op = 'INSERT' or new.project_id is distinct from old.project_id) then
        insert into policy_list_versions (project_id, version) values (new.project_id, 1)
          on conflict (project_id) do update set version = policy_list_versions.version + 1;
      end if;
      return null;
    end $$`);
  for (const table of ['policies', 'policy_resources']) {
    await knex.raw(`create trigger ${table}_list_version after insert or update or delete on ${table}
      for each row execute function dragon_bump_policy_list_version()`);
    await knex.raw(`create trigger ${table}_list_version_truncate after truncate on ${table}
      for each statement execute function dragon_bump_policy_list_version()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['policies', 'policy_resources']) {
    await knex.raw(`drop trigger if exists ${table}_list_version on ${table}`);
    await knex.raw(`drop trigger if exists ${table}_list_version_truncate on ${table}`);
  }
  await knex.raw('drop function if exists dragon_bump_policy_list_version()');
  await knex.schema.dropTableIfExists('policy_list_versions');
}
