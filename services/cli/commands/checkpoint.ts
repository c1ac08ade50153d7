import type { Command } from 'commander';
import { type CommandContext, withListOptions, withOutputOptions } from '../context.js';
import { findPolicy } from '../find.js';
import { col, type OutputOptions } from '../output.js';
import { waitAndReport } from './execution.js';

interface Checkpoint {
  id: string;
  [key: string]: unknown;
}

const LIST_COLUMNS = [
  col('ID', 'id'),
  col('Policy', 'policy_name'),
  col('Status', 'status'),
  col('Site', 'site'),
  col('Size', 'size_bytes'),
  col('Created At', 'created_at'),
];
/** A checkpoint found in a bank: whether recovery can use it, and why not. */
const BANK_COLUMNS = [
  col('ID', 'id'),
  col('Container', 'container'),
  col('Policy', 'policy_name'),
  col('Usable', 'usable'),
  col('Reason', 'reason'),
  col('Resources', 'resource_count'),
  col('Size', 'size_bytes'),
  col('Created At', 'created_at'),
];
const SHOW_COLUMNS = [
  col('ID', 'id'),
  col('Policy ID', 'policy_id'),
  col('Policy', 'policy_name'),
  col('Project ID', 'project_id'),
  col('Status', 'status'),
  col('Site', 'site'),
  col('Container', 'container'),
  col('Size', 'size_bytes'),
  col('Objects', 'object_count'),
  col('Summary', 'summary'),
  col('Error', 'error'),
  col('Execution ID', 'execution_id'),
  col('Created At', 'created_at'),
  col('Finished At', 'finished_at'),
];

/** `dragon policy protect`: trigger a policy, optionally waiting for its checkpoint. */
export function registerProtectCommand(policy: Command, ctx: CommandContext): void {
  withOutputOptions(policy.command('protect').description('Protect a workload policy now: make a checkpoint'))
    .argument('<policy>', 'policy name or ID')
    .option('--consistency <mode>', 'none, or paused: pause the servers while their data is captured')
    .option('--wait', 'wait for the checkpoint, showing progress')
    .action(async (nameOrId: string, opts: OutputOptions & { consistency?: string; wait?: boolean }) => {
      const client = await ctx.client();
      const found = await findPolicy(client, nameOrId);
      const body = opts.consistency ? { protect: { consistency: opts.consistency } } : {};
      const answer = await client.post<{ checkpoint: Checkpoint; execution_id: string }>(
        `/v1/policies/${encodeURIComponent(found.id)}/protect`,
        body,
      );
      if (opts.wait) await waitAndReport(ctx, answer.execution_id);
      const { checkpoint } = await client.get<{ checkpoint: Checkpoint }>(
        `/v1/checkpoints/${encodeURIComponent(answer.checkpoint.id)}`,
      );
      ctx.printShow({ ...checkpoint, execution_id: answer.execution_id }, SHOW_COLUMNS, opts);
    });
}

/** `dragon checkpoint list|show|delete|verify`. */
export function registerCheckpointCommands(checkpoint: Command, ctx: CommandContext): void {
  withListOptions(checkpoint.command('list').description('List checkpoints'))
    .option('--policy <policy>', 'only checkpoints of this policy (name or ID)')
    .option('--status <status>', 'only checkpoints with this status')
    .option('--all-projects', 'include all projects (admin only)')
    .option(
      '--source <source>',
      "database (default: what this Dragon made) or bank (what a site's Swift holds)",
    )
    .option('--site <site>', 'with --source bank: the site whose bank to read')
    .option('--bank-account <project>', "with --source bank: another project's bank, read through its ACL")
    .action(
      async (
        opts: OutputOptions & {
          policy?: string;
          status?: string;
          allProjects?: boolean;
          limit?: string;
          marker?: string;
          source?: string;
          site?: string;
          bankAccount?: string;
        },
      ) => {
        const client = await ctx.client();
        if (opts.source === 'bank') {
          if (!opts.site) throw new Error('--source bank needs --site <site>');
          const { checkpoints } = await client.get<{ checkpoints: Checkpoint[] }>('/v1/checkpoints', {
            source: 'bank',
            site: opts.site,
            bank_account: opts.bankAccount,
            policy_name: opts.policy,
          });
          ctx.printList(checkpoints, BANK_COLUMNS, opts);
          return;
        }
        const policyId = opts.policy ? (await findPolicy(client, opts.policy)).id : undefined;
        const rows = await client.list<Checkpoint>('/v1/checkpoints', 'checkpoints', {
          policy_id: policyId,
          status: opts.status,
          all_projects: opts.allProjects ? true : undefined,
          limit: opts.limit,
          marker: opts.marker,
        });
        ctx.printList(rows, LIST_COLUMNS, opts);
      },
    );

  withOutputOptions(checkpoint.command('show').description('Display checkpoint details'))
    .argument('<checkpoint>', 'checkpoint ID')
    .action(async (id: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const { checkpoint: found } = await client.get<{ checkpoint: Checkpoint }>(
        `/v1/checkpoints/${encodeURIComponent(id)}`,
      );
      ctx.printShow(found, SHOW_COLUMNS, opts);
    });

  checkpoint
    .command('delete')
    .description('Delete a checkpoint: its container in the bank and what its actions created')
    .argument('<checkpoint>', 'checkpoint ID')
    .option('--wait', 'wait until it is gone')
    .action(async (id: string, opts: { wait?: boolean }) => {
      const client = await ctx.client();
      const answer = await client.request<{ execution_id: string }>(
        'DELETE',
        `/v1/checkpoints/${encodeURIComponent(id)}`,
      );
      if (opts.wait && answer?.execution_id) await waitAndReport(ctx, answer.execution_id);
    });

  checkpoint
    .command('verify')
    .description('Re-read every object of a checkpoint and compare its SHA-256 with the manifest')
    .argument('<checkpoint>', 'checkpoint ID')
    .option('--wait', 'wait for the verdict')
    .action(async (id: string, opts: { wait?: boolean }) => {
      const client = await ctx.client();
      const answer = await client.post<{ execution_id: string }>(
        `/v1/checkpoints/${encodeURIComponent(id)}/verify`,
      );
      if (opts.wait) await waitAndReport(ctx, answer.execution_id);
      else ctx.print(`verification started: execution ${answer.execution_id}`);
    });
}
