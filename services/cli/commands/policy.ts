import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { withListOptions, withOutputOptions } from '../context.js';
import { findPolicy, type Policy } from '../find.js';
import { describeError } from '../http.js';
import { col, type OutputOptions } from '../output.js';

const LIST_COLUMNS = [
  col('ID', 'id'),
  col('Name', 'name'),
  col('Description', 'description'),
  col('Backup Site', 'backup_site'),
  col('Status', 'status'),
];
const LONG_COLUMNS = [
  ...LIST_COLUMNS,
  col('Resource Count', 'resource_count'),
  col('Project ID', 'project_id'),
  col('Created At', 'created_at'),
  col('Updated At', 'updated_at'),
];
export const POLICY_COLUMNS = [
  col('ID', 'id'),
  col('Name', 'name'),
  col('Description', 'description'),
  col('Backup Site', 'backup_site'),
  col('Status', 'status'),
  col('Resource Count', 'resource_count'),
  col('Bank Readers', 'bank_readers', (p) =>
    Array.isArray(p.bank_readers) ? (p.bank_readers as string[]).join(', ') : '',
  ),
  col('Project ID', 'project_id'),
  col('User ID', 'user_id'),
  col('Created At', 'created_at'),
  col('Updated At', 'updated_at'),
];

/** commander collector for a repeatable option. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

type ListOpts = OutputOptions & {
  long?: boolean;
  limit?: string;
  marker?: string;
  name?: string;
  status?: string;
  allProjects?: boolean;
  projectId?: string;
};

/** `dragon policy list|show|create|set|unset|delete`. */
export function registerPolicyCommands(policy: Command, ctx: CommandContext): void {
  withListOptions(policy.command('list').description('List workload policies'))
    .option('--name <name>', 'only policies with this name')
    .option('--status <status>', 'only policies with this status')
    .option('--all-projects', 'include all projects (admin only)')
    .option('--project <project-id>', 'only policies of this project (admin only)')
    .action(async (opts: ListOpts & { project?: string }) => {
      const client = await ctx.client();
      const rows = await client.list<Policy>('/v1/policies', 'policies', {
        name: opts.name,
        status: opts.status,
        all_projects: opts.allProjects || opts.project ? true : undefined,
        project_id: opts.project,
        limit: opts.limit,
        marker: opts.marker,
      });
      ctx.printList(rows, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
    });

  withOutputOptions(policy.command('show').description('Display workload policy details'))
    .argument('<policy>', 'policy to display (name or ID)')
    .action(async (nameOrId: string, opts: OutputOptions) => {
      const found = await findPolicy(await ctx.client(), nameOrId);
      ctx.printShow(found, POLICY_COLUMNS, opts);
    });

  withOutputOptions(policy.command('create').description('Create a new workload policy'))
    .argument('<name>', 'new policy name')
    .option('--description <description>', 'policy description')
    .option('--backup-site <site>', 'site where the policy is recovered and its checkpoints are kept')
    .option(
      '--bank-reader <project>',
      "project that may read the policy's checkpoints (recovery with other credentials; repeat for more)",
      collect,
    )
    .action(
      async (
        name: string,
        opts: OutputOptions & { description?: string; backupSite?: string; bankReader?: string[] },
      ) => {
        const client = await ctx.client();
        const body = {
          policy: {
            name,
            description: opts.description,
            backup_site: opts.backupSite,
            ...(opts.bankReader ? { bank_readers: opts.bankReader } : {}),
          },
        };
        const { policy: created } = await client.post<{ policy: Policy }>('/v1/policies', body);
        ctx.printShow(created, POLICY_COLUMNS, opts);
      },
    );

  policy
    .command('set')
    .description('Set workload policy properties')
    .argument('<policy>', 'policy to modify (name or ID)')
    .option('--name <name>', 'set policy name')
    .option('--description <description>', 'set policy description')
    .option('--backup-site <site>', 'set backup site')
    .option(
      '--bank-reader <project>',
      "project that may read the policy's checkpoints (replaces the list; repeat for more)",
      collect,
    )
    .action(
      async (
        nameOrId: string,
        opts: { name?: string; description?: string; backupSite?: string; bankReader?: string[] },
      ) => {
        const changes: Record<string, unknown> = {};
        if (opts.bankReader !== undefined) changes.bank_readers = opts.bankReader;
        if (opts.name !== undefined) changes.name = opts.name;
        if (opts.description !== undefined) changes.description = opts.description;
        if (opts.backupSite !== undefined) changes.backup_site = opts.backupSite;
        const client = await ctx.client();
        const found = await findPolicy(client, nameOrId);
        // Like OSC, a set with nothing to set is not an error and sends nothing.
        if (Object.keys(changes).length === 0) return;
        await client.patch(`/v1/policies/${found.id}`, { policy: changes });
      },
    );

  policy
    .command('unset')
    .description('Unset workload policy properties')
    .argument('<policy>', 'policy to modify (name or ID)')
    .option('--description', 'clear the policy description')
    .option('--backup-site', 'clear the backup site')
    .option('--bank-readers', 'clear the bank readers')
    .action(
      async (
        nameOrId: string,
        opts: { description?: boolean; backupSite?: boolean; bankReaders?: boolean },
      ) => {
        const changes: Record<string, null> = {};
        if (opts.bankReaders) changes.bank_readers = null;
        if (opts.description) changes.description = null;
        if (opts.backupSite) changes.backup_site = null;
        const client = await ctx.client();
        const found = await findPolicy(client, nameOrId);
        if (Object.keys(changes).length === 0) return;
        await client.patch(`/v1/policies/${found.id}`, { policy: changes });
      },
    );

  policy
    .command('delete')
    .description('Delete workload policy(s)')
    .argument('<policy...>', 'policy(s) to delete (name or ID)')
    .action(async (names: string[]) => {
      const client = await ctx.client();
      let failed = 0;
      for (const nameOrId of names) {
        try {
          const found = await findPolicy(client, nameOrId);
          await client.delete(`/v1/policies/${found.id}`);
        } catch (err) {
          failed++;
          ctx.warn(`Failed to delete policy with name or ID '${nameOrId}': ${describeError(err)}`);
        }
      }
      if (failed) throw new Error(`${failed} of ${names.length} policies failed to delete.`);
    });
}
