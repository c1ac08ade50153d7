import type { Command } from 'commander';
import { type CommandContext, collect, withOutputOptions, withSortOptions } from '../context.js';
import { findPolicy } from '../find.js';
import { describeError } from '../http.js';
import { col, type OutputOptions } from '../output.js';
import { listProtectables } from './protectable.js';

const LIST_COLUMNS = [
  col('Resource ID', 'resource_id'),
  col('Resource Type', 'resource_type'),
  col('Resource Name', 'resource_name'),
  col('Action', 'action'),
  col('Required', 'required'),
];
const LONG_COLUMNS = [
  ...LIST_COLUMNS,
  col('Options', 'options'),
  col('ID', 'id'),
  col('Created At', 'created_at'),
];
const SHOW_COLUMNS = [
  col('ID', 'id'),
  col('Policy ID', 'policy_id'),
  col('Resource ID', 'resource_id'),
  col('Resource Type', 'resource_type'),
  col('Resource Name', 'resource_name'),
  col('Action', 'action'),
  col('Options', 'options'),
  col('Required', 'required'),
  col('Created At', 'created_at'),
  col('Updated At', 'updated_at'),
];

type Resource = Record<string, unknown> & { resource_id: string; options?: Record<string, unknown> };

/** --option key=value pairs over --options-json; values stay strings (use --options-json for typed values). */
export function parseActionOptions(pairs: string[], json?: string): Record<string, unknown> | undefined {
  let options: Record<string, unknown> | undefined;
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new Error(`--options-json is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('--options-json must be a JSON object');
    }
    options = parsed as Record<string, unknown>;
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--option expects key=value, got '${pair}'`);
    options = { ...options, [pair.slice(0, eq)]: pair.slice(eq + 1) };
  }
  return options;
}

const path = (policyId: string, resourceId?: string) =>
  `/v1/policies/${policyId}/resources${resourceId === undefined ? '' : `/${encodeURIComponent(resourceId)}`}`;

/** `dragon policy resource add|set|remove|list|show`: the resources a policy protects and how. */
export function registerPolicyResourceCommands(policy: Command, ctx: CommandContext): void {
  const resource = policy.command('resource').description('Manage the resources of a workload policy');

  withSortOptions(
    withOutputOptions(resource.command('list').description('List the resources of a workload policy')),
  )
    .argument('<policy>', 'policy (name or ID)')
    .option('--long', 'list additional fields in output')
    .action(async (nameOrId: string, opts: OutputOptions & { long?: boolean }) => {
      const client = await ctx.client();
      const found = await findPolicy(client, nameOrId);
      const rows = await client.list<Resource>(path(found.id), 'resources');
      ctx.printList(rows, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
    });

  withOutputOptions(resource.command('show').description('Display one resource of a workload policy'))
    .argument('<policy>', 'policy (name or ID)')
    .argument('<resource-id>', 'cloud resource ID')
    .action(async (nameOrId: string, resourceId: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const found = await findPolicy(client, nameOrId);
      const { resource: row } = await client.get<{ resource: Resource }>(path(found.id, resourceId));
      ctx.printShow(row, SHOW_COLUMNS, opts);
    });

  withOutputOptions(resource.command('add').description('Add a resource to a workload policy'))
    .argument('<policy>', 'policy (name or ID)')
    .requiredOption('--resource-id <id>', 'cloud resource ID (e.g. a server UUID)')
    .requiredOption('--type <type>', 'Heat resource type, e.g. OS::Nova::Server')
    .requiredOption('--action <name>', 'protection action (see `dragon action list`)')
    .option('--name <name>', 'resource name to record')
    .option('--option <key=value>', 'action option (repeat for several; values are strings)', collect, [])
    .option('--options-json <json>', 'action options as a JSON object')
    .option('--not-required', 'protect even when the resource is missing at protect time')
    .option('--with-dependencies', "also add a server's attached volumes")
    .option(
      '--volume-action <name>',
      'action for the volumes added by --with-dependencies',
      'volume-snapshot',
    )
    .option(
      '--site <name>',
      'site the server runs at, for --with-dependencies (default: the default primary site)',
    )
    .action(
      async (
        nameOrId: string,
        opts: OutputOptions & {
          resourceId: string;
          type: string;
          action: string;
          name?: string;
          option: string[];
          optionsJson?: string;
          notRequired?: boolean;
          withDependencies?: boolean;
          volumeAction: string;
          site?: string;
        },
      ) => {
        const options = parseActionOptions(opts.option, opts.optionsJson);
        const client = await ctx.client();
        const found = await findPolicy(client, nameOrId);
        const body = {
          resource: {
            resource_id: opts.resourceId,
            resource_type: opts.type,
            action: opts.action,
            resource_name: opts.name,
            options,
            required: !opts.notRequired,
          },
        };
        if (!opts.withDependencies) {
          const { resource: added } = await client.post<{ resource: Resource }>(path(found.id), body);
          ctx.printShow(added, SHOW_COLUMNS, opts);
          return;
        }
        if (opts.type !== 'OS::Nova::Server')
          throw new Error('--with-dependencies applies to OS::Nova::Server');
        // Look the server up first so a wrong ID adds nothing.
        const servers = await listProtectables(client, { site: opts.site, type: 'OS::Nova::Server' });
        const server = servers.find((s) => s.id === opts.resourceId);
        if (!server) throw new Error(`No server with ID ${opts.resourceId} at the site.`);
        body.resource.resource_name ??= server.name;
        const added: Resource[] = [];
        added.push((await client.post<{ resource: Resource }>(path(found.id), body)).resource);
        for (const dep of server.dependencies.filter((d) => d.type === 'OS::Cinder::Volume')) {
          const { resource } = await client.post<{ resource: Resource }>(path(found.id), {
            resource: {
              resource_id: dep.id,
              resource_type: dep.type,
              resource_name: dep.name || undefined,
              action: opts.volumeAction,
              required: !opts.notRequired,
            },
          });
          added.push(resource);
        }
        ctx.printList(added, LIST_COLUMNS, opts);
      },
    );

  resource
    .command('set')
    .description('Change how a resource of a workload policy is protected')
    .argument('<policy>', 'policy (name or ID)')
    .argument('<resource-id>', 'cloud resource ID')
    .option('--action <name>', 'protection action')
    .option('--name <name>', 'resource name to record')
    .option('--option <key=value>', 'action option to add or change (repeatable)', collect, [])
    .option('--options-json <json>', 'replace all action options with this JSON object')
    .option('--required', 'the resource must exist at protect time')
    .option('--not-required', 'protect even when the resource is missing at protect time')
    .action(
      async (
        nameOrId: string,
        resourceId: string,
        opts: {
          action?: string;
          name?: string;
          option: string[];
          optionsJson?: string;
          required?: boolean;
          notRequired?: boolean;
        },
      ) => {
        if (opts.required && opts.notRequired)
          throw new Error('--required and --not-required cannot be combined');
        const client = await ctx.client();
        const found = await findPolicy(client, nameOrId);
        const changes: Record<string, unknown> = {};
        if (opts.action !== undefined) changes.action = opts.action;
        if (opts.name !== undefined) changes.resource_name = opts.name;
        if (opts.required) changes.required = true;
        if (opts.notRequired) changes.required = false;
        if (opts.optionsJson !== undefined || opts.option.length) {
          // Like `--property` in OSC, --option adds to what is there; --options-json replaces it.
          let base: Record<string, unknown> | undefined;
          if (opts.optionsJson === undefined) {
            const { resource: current } = await client.get<{ resource: Resource }>(
              path(found.id, resourceId),
            );
            base = current.options ?? {};
          }
          changes.options = { ...base, ...parseActionOptions(opts.option, opts.optionsJson) };
        }
        if (Object.keys(changes).length === 0) return;
        await client.patch(path(found.id, resourceId), { resource: changes });
      },
    );

  resource
    .command('remove')
    .description('Remove resource(s) from a workload policy')
    .argument('<policy>', 'policy (name or ID)')
    .argument('<resource-id...>', 'cloud resource ID(s)')
    .action(async (nameOrId: string, resourceIds: string[]) => {
      const client = await ctx.client();
      const found = await findPolicy(client, nameOrId);
      let failed = 0;
      for (const id of resourceIds) {
        try {
          await client.delete(path(found.id, id));
        } catch (err) {
          failed++;
          ctx.warn(`Failed to remove resource '${id}' from policy '${nameOrId}': ${describeError(err)}`);
        }
      }
      if (failed) throw new Error(`${failed} of ${resourceIds.length} resources failed to remove.`);
    });
}
