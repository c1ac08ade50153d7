import type { Command } from 'commander';
import { type CommandContext, withListOptions, withOutputOptions } from '../context.js';
import { findPolicy } from '../find.js';
import { asciiTable, col, formatCell, type OutputOptions, selectColumns } from '../output.js';
import { bytesText, type Execution, progressLine, waitForExecution } from '../wait.js';

const LIST_COLUMNS = [
  col('ID', 'id'),
  col('Kind', 'kind'),
  col('Status', 'status'),
  col('Progress', 'progress'),
  col('Policy ID', 'policy_id'),
  col('Created At', 'created_at'),
];
const LONG_COLUMNS = [
  ...LIST_COLUMNS,
  col('Error', 'error'),
  col('Claimed By', 'claimed_by'),
  col('Started At', 'started_at'),
  col('Finished At', 'finished_at'),
];
const SHOW_COLUMNS = [
  col('ID', 'id'),
  col('Kind', 'kind'),
  col('Status', 'status'),
  col('Progress', 'progress'),
  col('Progress Detail', 'progress_detail'),
  col('Steps Done', 'steps_done', (e) => {
    const d = (e.progress_detail ?? {}) as Record<string, unknown>;
    return typeof d.steps_total === 'number' ? `${d.steps_done ?? 0}/${d.steps_total}` : null;
  }),
  col('Bytes', 'bytes', (e) => {
    const d = (e.progress_detail ?? {}) as Record<string, unknown>;
    return (
      bytesText({
        bytesDone: typeof d.bytes_done === 'number' ? d.bytes_done : undefined,
        bytesTotal: typeof d.bytes_total === 'number' ? d.bytes_total : undefined,
      }) ?? null
    );
  }),
  col('Error', 'error'),
  col('Policy ID', 'policy_id'),
  col('Project ID', 'project_id'),
  col('User ID', 'user_id'),
  col('Params', 'params'),
  col('Result', 'result'),
  col('Claimed By', 'claimed_by'),
  col('Created At', 'created_at'),
  col('Updated At', 'updated_at'),
  col('Started At', 'started_at'),
  col('Finished At', 'finished_at'),
];
const STEPS = col('Steps', 'steps');
const STEP_COLUMNS = [
  col('Name', 'name'),
  col('Resource ID', 'resource_id'),
  col('Resource Type', 'resource_type'),
  col('Action', 'action'),
  col('Status', 'status'),
  col('Progress', 'progress'),
  col('Attempts', 'attempts'),
  col('Error', 'error'),
];

/**
 * Print the execution's fields, then its steps: as a second table in table
 * format, as a nested list in JSON/YAML, as compact JSON text in value/csv.
 */
function printExecution(ctx: CommandContext, execution: Execution, opts: OutputOptions): void {
  const format = opts.format ?? 'table';
  const all = [...SHOW_COLUMNS, STEPS];
  const chosen = selectColumns(all, opts.column);
  const wantSteps = chosen.includes(STEPS);
  const fields = chosen.filter((c) => c !== STEPS);
  const steps = (execution.steps ?? []) as Record<string, unknown>[];
  if (format === 'table') {
    if (fields.length) ctx.printShow(execution, fields, { format });
    if (wantSteps && steps.length) {
      ctx.print(
        asciiTable(
          STEP_COLUMNS.map((c) => c.name),
          steps.map((s) => STEP_COLUMNS.map((c) => formatCell(s[c.key] ?? null))),
        ),
      );
    }
    return;
  }
  const stepCol =
    format === 'json' || format === 'yaml'
      ? col('Steps', 'steps', () =>
          steps.map((s) => Object.fromEntries(STEP_COLUMNS.map((c) => [c.name, s[c.key] ?? null]))),
        )
      : col('Steps', 'steps', () => JSON.stringify(steps));
  ctx.printShow(
    execution,
    chosen.map((c) => (c === STEPS ? stepCol : c)),
    { format },
  );
}

/** `dragon execution list|show|cancel`: the long-running work of the engines. */
export function registerExecutionCommands(execution: Command, ctx: CommandContext): void {
  withListOptions(execution.command('list').description('List executions'))
    .option('--policy <policy>', 'only executions of this policy (name or ID)')
    .option('--status <status>', 'only executions with this status')
    .option('--kind <kind>', 'only executions of this kind (protect, recover, ...)')
    .option('--all-projects', 'include all projects (admin only)')
    .action(
      async (
        opts: OutputOptions & {
          long?: boolean;
          limit?: string;
          marker?: string;
          policy?: string;
          status?: string;
          kind?: string;
          allProjects?: boolean;
        },
      ) => {
        const client = await ctx.client();
        const policyId = opts.policy ? (await findPolicy(client, opts.policy)).id : undefined;
        const rows = await client.list<Execution>('/v1/executions', 'executions', {
          policy_id: policyId,
          status: opts.status,
          kind: opts.kind,
          all_projects: opts.allProjects ? true : undefined,
          limit: opts.limit,
          marker: opts.marker,
        });
        ctx.printList(rows, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
      },
    );

  withOutputOptions(execution.command('show').description('Display execution details and its steps'))
    .argument('<execution>', 'execution ID')
    .action(async (id: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const { execution: found } = await client.get<{ execution: Execution }>(
        `/v1/executions/${encodeURIComponent(id)}`,
      );
      printExecution(ctx, found, opts);
    });

  execution
    .command('cancel')
    .description('Cancel a pending or running execution')
    .argument('<execution>', 'execution ID')
    .option('--wait', 'wait for the execution to finish')
    .action(async (id: string, opts: { wait?: boolean }) => {
      const client = await ctx.client();
      await client.post(`/v1/executions/${encodeURIComponent(id)}/cancel`);
      if (opts.wait) await waitAndReport(ctx, id);
    });
}

/**
 * `--wait` for any command that starts or stops an execution: progress lines
 * on stderr, and an error (so exit status 1) when the execution failed.
 */
export async function waitAndReport(ctx: CommandContext, id: string): Promise<Execution> {
  const client = await ctx.client();
  const final = await waitForExecution(client, id, (p) => ctx.warn(progressLine(id, p)), {
    intervalMs: ctx.io.pollIntervalMs,
  });
  if (final.status === 'failed') {
    throw new Error(`Execution ${id} failed${final.error ? `: ${final.error}` : ''}`);
  }
  return final;
}
