import type { Command } from 'commander';
import type { DragonClient } from '../client.js';
import { type CommandContext, withOutputOptions, withSortOptions } from '../context.js';
import { col, type OutputOptions } from '../output.js';

export interface Protectable extends Record<string, unknown> {
  id: string;
  name: string;
  type: string;
  status: string;
  dependencies: { id: string; type: string; name: string }[];
}

const LIST_COLUMNS = [col('ID', 'id'), col('Name', 'name'), col('Type', 'type'), col('Status', 'status')];
const LONG_COLUMNS = [...LIST_COLUMNS, col('Dependencies', 'dependencies')];

/** GET /v1/protectables: the caller's servers and volumes at a site. */
export async function listProtectables(
  client: DragonClient,
  q: { site?: string; type?: string } = {},
): Promise<Protectable[]> {
  const { protectables } = await client.get<{ protectables: Protectable[] }>('/v1/protectables', q);
  return protectables;
}

/** `dragon protectable list`: what can be added to a policy, with what it depends on. */
export function registerProtectableCommands(protectable: Command, ctx: CommandContext): void {
  withSortOptions(
    withOutputOptions(
      protectable.command('list').description('List the servers and volumes you can protect at a site'),
    ),
  )
    .option('--site <name>', 'site (default: the default primary site)')
    .option('--type <type>', 'OS::Nova::Server or OS::Cinder::Volume (default: both)')
    .option('--long', 'list the dependencies too')
    .action(async (opts: OutputOptions & { site?: string; type?: string; long?: boolean }) => {
      const client = await ctx.client();
      const rows = await listProtectables(client, { site: opts.site, type: opts.type });
      const shown = opts.long
        ? rows.map((r) => ({
            ...r,
            dependencies: r.dependencies.map((d) => `${d.type} ${d.name || d.id}`.trim()),
          }))
        : rows;
      ctx.printList(shown, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
    });
}
