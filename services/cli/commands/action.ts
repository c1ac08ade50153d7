import type { Command } from 'commander';
import { type CommandContext, withOutputOptions, withSortOptions } from '../context.js';
import { col, type OutputOptions } from '../output.js';

const LIST_COLUMNS = [
  col('Name', 'name'),
  col('Resource Type', 'resource_type'),
  col('Version', 'version'),
  col('Description', 'description'),
];
const SHOW_COLUMNS = [
  ...LIST_COLUMNS,
  col('Options Schema', 'options_schema', (a) => jsonText(a.options_schema)),
];

function jsonText(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v, null, 2);
}

/** `dragon action list|show`: the protection actions the engines have loaded. */
export function registerActionCommands(action: Command, ctx: CommandContext): void {
  withSortOptions(withOutputOptions(action.command('list').description('List protection actions')))
    .option('--resource-type <type>', 'only actions for this Heat resource type')
    .action(async (opts: OutputOptions & { resourceType?: string }) => {
      const client = await ctx.client();
      const { actions } = await client.get<{ actions: Record<string, unknown>[] }>('/v1/actions');
      // Filtered here: the API contract has no resource_type filter for actions.
      const rows = opts.resourceType ? actions.filter((a) => a.resource_type === opts.resourceType) : actions;
      ctx.printList(rows, LIST_COLUMNS, opts);
    });

  withOutputOptions(action.command('show').description('Display protection action details'))
    .argument('<action>', 'action name')
    .action(async (name: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const { action: found } = await client.get<{ action: Record<string, unknown> }>(
        `/v1/actions/${encodeURIComponent(name)}`,
      );
      // JSON and YAML keep the schema as an object rather than the table's pretty text.
      const columns =
        opts.format === 'json' || opts.format === 'yaml'
          ? [...LIST_COLUMNS, col('Options Schema', 'options_schema')]
          : SHOW_COLUMNS;
      ctx.printShow(found, columns, opts);
    });
}
