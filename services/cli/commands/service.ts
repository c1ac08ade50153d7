import type { Command } from 'commander';
import { type CommandContext, withListOptions } from '../context.js';
import { col, type OutputOptions } from '../output.js';

const LIST_COLUMNS = [
  col('ID', 'id'),
  col('Host', 'host'),
  col('Binary', 'binary'),
  col('Version', 'version'),
  col('State', 'state'),
  col('Last Heartbeat At', 'last_heartbeat_at'),
];
const LONG_COLUMNS = [...LIST_COLUMNS, col('Plugins', 'plugins'), col('Created At', 'created_at')];

/** `dragon service list`: the engines and APIs that heartbeat (admin only). */
export function registerServiceCommands(service: Command, ctx: CommandContext): void {
  withListOptions(service.command('list').description('List Dragon services'))
    .option('--host <host>', 'only services on this host')
    .option('--binary <binary>', 'only services of this binary')
    .action(
      async (
        opts: OutputOptions & {
          long?: boolean;
          limit?: string;
          marker?: string;
          host?: string;
          binary?: string;
        },
      ) => {
        const client = await ctx.client();
        const rows = await client.list<Record<string, unknown>>('/v1/services', 'services', {
          host: opts.host,
          binary: opts.binary,
          limit: opts.limit,
          marker: opts.marker,
        });
        ctx.printList(rows, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
      },
    );
}
