import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { type CommandContext, withListOptions, withOutputOptions } from '../context.js';
import { col, type OutputOptions } from '../output.js';
import { waitAndReport } from './execution.js';

interface Recovery {
  id: string;
  execution_id: string | null;
  [key: string]: unknown;
}

const LIST_COLUMNS = [
  col('ID', 'id'),
  col('Policy', 'policy_name'),
  col('Site', 'site'),
  col('Status', 'status'),
  col('Drill', 'drill'),
  col('Dry Run', 'dry_run'),
  col('Stack', 'stack_name'),
  col('Created At', 'created_at'),
];
const SHOW_COLUMNS = [
  col('ID', 'id'),
  col('Checkpoint ID', 'checkpoint_id'),
  col('Container', 'container'),
  col('Bank Site', 'bank_site'),
  col('Site', 'site'),
  col('Policy', 'policy_name'),
  col('Status', 'status'),
  col('Dry Run', 'dry_run'),
  col('Drill', 'drill'),
  col('On Failure', 'on_failure'),
  col('Stack', 'stack_name'),
  col('Stack ID', 'stack_id'),
  col('RTO (s)', 'rto_seconds'),
  col('RPO (s)', 'rpo_seconds'),
  col('Problems', 'problems'),
  col('Checks', 'checks'),
  col('ID Map', 'id_map'),
  col('Error', 'error'),
  col('Execution ID', 'execution_id'),
  col('Created At', 'created_at'),
  col('Finished At', 'finished_at'),
];

/** The flat fields people look at first, lifted out of the plan and the result. */
function forDisplay(r: Recovery): Record<string, unknown> {
  const plan = (r.plan ?? {}) as { problems?: Array<{ message: string }>; warnings?: string[] };
  const result = (r.result ?? {}) as Record<string, unknown>;
  const checks =
    (result.checks as Array<{ check: string; resource_id: string; ok: boolean }> | undefined) ?? [];
  return {
    ...r,
    rto_seconds: result.rto_seconds ?? null,
    rpo_seconds: result.rpo_seconds ?? null,
    problems: plan.problems ? plan.problems.map((p) => p.message) : null,
    checks:
      checks.length > 0 ? checks.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.check} ${c.resource_id}`) : null,
    id_map: result.id_map ?? null,
  };
}

/** A mapping document from a YAML or JSON file (YAML is a superset of JSON). */
export function readMapping(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read the mapping file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`The mapping file ${path} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new Error(`The mapping file ${path} must hold a mapping (networks, flavors, ...).`);
  // Either the mapping itself or a document with a top-level `mapping` key.
  const inner = (doc as { mapping?: unknown }).mapping;
  return (inner && typeof inner === 'object' ? inner : doc) as Record<string, unknown>;
}

/** `dragon recovery create|list|show|delete|cancel|failback-policy`. */
export function registerRecoveryCommands(recovery: Command, ctx: CommandContext): void {
  withOutputOptions(
    recovery
      .command('create')
      .description('Recover a checkpoint at a site (or plan it with --dry-run, or drill it)'),
  )
    .argument('<checkpoint>', 'checkpoint ID or container name in the bank')
    .requiredOption('--site <site>', 'site to recover at')
    .option('--bank-site <site>', 'site whose Swift holds the checkpoint (default: --site)')
    .option(
      '--bank-account <project>',
      'project (Swift account) that owns the checkpoint, read through its ACL',
    )
    .option('--stack-name <name>', 'name of the Heat stack to create')
    .option(
      '--mapping <file>',
      'YAML or JSON: networks, external_network, flavors, availability_zones, volume_types, key_pairs, images, volumes',
    )
    .option('--on-failure <what>', 'rollback (default) or keep what was created')
    .option('--dry-run', 'create nothing: show the adjusted template, parameters and every problem found')
    .option('--drill', 'recover into isolated networks without floating IPs, and check the result')
    .option('--wait', 'wait for the recovery, showing progress')
    .action(
      async (
        checkpoint: string,
        opts: OutputOptions & {
          site: string;
          bankSite?: string;
          bankAccount?: string;
          stackName?: string;
          mapping?: string;
          onFailure?: string;
          dryRun?: boolean;
          drill?: boolean;
          wait?: boolean;
        },
      ) => {
        const client = await ctx.client();
        const body = {
          recovery: {
            checkpoint,
            site: opts.site,
            ...(opts.bankSite ? { bank_site: opts.bankSite } : {}),
            ...(opts.bankAccount ? { bank_account: opts.bankAccount } : {}),
            ...(opts.stackName ? { stack_name: opts.stackName } : {}),
            ...(opts.mapping ? { mapping: readMapping(opts.mapping) } : {}),
            ...(opts.onFailure ? { on_failure: opts.onFailure } : {}),
            ...(opts.dryRun ? { dry_run: true } : {}),
            ...(opts.drill ? { drill: true } : {}),
          },
        };
        const answer = await client.post<{ recovery: Recovery; execution_id: string }>(
          '/v1/recoveries',
          body,
        );
        let failure: Error | undefined;
        if (opts.wait) await waitAndReport(ctx, answer.execution_id).catch((err: Error) => (failure = err));
        const { recovery: found } = await client.get<{ recovery: Recovery }>(
          `/v1/recoveries/${encodeURIComponent(answer.recovery.id)}`,
        );
        ctx.printShow(forDisplay(found), SHOW_COLUMNS, opts);
        if (failure) throw failure;
      },
    );

  withListOptions(recovery.command('list').description('List recoveries'))
    .option('--status <status>', 'only recoveries with this status')
    .option('--site <site>', 'only recoveries at this site')
    .option('--all-projects', 'include all projects (admin only)')
    .action(
      async (
        opts: OutputOptions & {
          status?: string;
          site?: string;
          allProjects?: boolean;
          limit?: string;
          marker?: string;
        },
      ) => {
        const client = await ctx.client();
        const rows = await client.list<Recovery>('/v1/recoveries', 'recoveries', {
          status: opts.status,
          site: opts.site,
          all_projects: opts.allProjects ? true : undefined,
          limit: opts.limit,
          marker: opts.marker,
        });
        ctx.printList(rows, LIST_COLUMNS, opts);
      },
    );

  withOutputOptions(
    recovery.command('show').description('Display a recovery: plan, id map, RTO, RPO, checks'),
  )
    .argument('<recovery>', 'recovery ID')
    .action(async (id: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const { recovery: found } = await client.get<{ recovery: Recovery }>(
        `/v1/recoveries/${encodeURIComponent(id)}`,
      );
      ctx.printShow(forDisplay(found), SHOW_COLUMNS, opts);
    });

  recovery
    .command('delete')
    .description('Delete a recovery: tear down its stack, restored volumes and imported images')
    .argument('<recovery>', 'recovery ID')
    .option('--wait', 'wait until everything is gone')
    .action(async (id: string, opts: { wait?: boolean }) => {
      const client = await ctx.client();
      const answer = await client.request<{ execution_id: string }>(
        'DELETE',
        `/v1/recoveries/${encodeURIComponent(id)}`,
      );
      if (opts.wait && answer?.execution_id) await waitAndReport(ctx, answer.execution_id);
    });

  recovery
    .command('cancel')
    .description('Cancel a running recovery (what it created is removed)')
    .argument('<recovery>', 'recovery ID')
    .action(async (id: string) => {
      const client = await ctx.client();
      await client.post(`/v1/recoveries/${encodeURIComponent(id)}/cancel`, {});
    });

  withOutputOptions(
    recovery
      .command('failback-policy')
      .description('Create a policy that protects the recovered workload back to its original site'),
  )
    .argument('<recovery>', 'recovery ID')
    .option('--name <name>', 'name of the new policy')
    .option('--backup-site <site>', 'site to fail back to (default: the site whose bank held the checkpoint)')
    .action(async (id: string, opts: OutputOptions & { name?: string; backupSite?: string }) => {
      const client = await ctx.client();
      const answer = await client.post<{ policy: Record<string, unknown> }>(
        `/v1/recoveries/${encodeURIComponent(id)}/failback-policy`,
        {
          policy: {
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.backupSite ? { backup_site: opts.backupSite } : {}),
          },
        },
      );
      ctx.printShow(
        answer.policy,
        [
          col('ID', 'id'),
          col('Name', 'name'),
          col('Primary Site', 'primary_site'),
          col('Backup Site', 'backup_site'),
        ],
        opts,
      );
    });
}
