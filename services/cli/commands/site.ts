import type { Command } from 'commander';
import { type CommandContext, withOutputOptions, withSortOptions } from '../context.js';
import { describeError } from '../http.js';
import { col, type OutputOptions } from '../output.js';

const LIST_COLUMNS = [
  col('Name', 'name'),
  col('Kind', 'kind'),
  col('Region Name', 'region_name'),
  col('Auth URL', 'auth_url'),
];
const LONG_COLUMNS = [
  ...LIST_COLUMNS,
  col('Interface', 'interface'),
  col('Application Credential ID', 'application_credential_id'),
  col('Description', 'description'),
];
const SHOW_COLUMNS = [
  col('Name', 'name'),
  col('Kind', 'kind'),
  col('ID', 'id'),
  col('Project ID', 'project_id'),
  col('Region Name', 'region_name'),
  col('Interface', 'interface'),
  col('Auth URL', 'auth_url'),
  col('Application Credential ID', 'application_credential_id'),
  col('Description', 'description'),
  col('Created At', 'created_at'),
];

type Site = Record<string, unknown> & { name: string };
const path = (name?: string) => `/v1/sites${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/** `dragon site list|show|create|delete`: where workloads run and are recovered. */
export function registerSiteCommands(site: Command, ctx: CommandContext): void {
  withSortOptions(
    withOutputOptions(site.command('list').description("List the cloud's sites and your registered ones")),
  )
    .option('--long', 'list additional fields in output')
    .action(async (opts: OutputOptions & { long?: boolean }) => {
      const client = await ctx.client();
      const { sites } = await client.get<{ sites: Site[] }>(path());
      ctx.printList(sites, opts.long ? LONG_COLUMNS : LIST_COLUMNS, opts);
    });

  withOutputOptions(site.command('show').description('Display one site'))
    .argument('<name>', 'site name')
    .action(async (name: string, opts: OutputOptions) => {
      const client = await ctx.client();
      const { site: row } = await client.get<{ site: Site }>(path(name));
      ctx.printShow(row, SHOW_COLUMNS, opts);
    });

  withOutputOptions(
    site
      .command('create')
      .description('Register a site in another cloud with an application credential of that cloud'),
  )
    .argument('<name>', 'site name')
    .requiredOption('--auth-url <url>', "the other cloud's Keystone URL")
    .requiredOption('--application-credential-id <id>', 'application credential ID in that cloud')
    .option(
      '--application-credential-secret <secret>',
      'its secret (env: DRAGON_SITE_APPLICATION_CREDENTIAL_SECRET, which keeps it out of the shell history)',
    )
    .option('--region-name <region>', 'region in that cloud')
    .option('--interface <interface>', 'endpoint interface: public, internal, admin')
    .action(
      async (
        name: string,
        opts: OutputOptions & {
          authUrl: string;
          applicationCredentialId: string;
          applicationCredentialSecret?: string;
          regionName?: string;
          interface?: string;
        },
      ) => {
        const secret =
          opts.applicationCredentialSecret ?? ctx.io.env.DRAGON_SITE_APPLICATION_CREDENTIAL_SECRET;
        if (!secret)
          throw new Error(
            '--application-credential-secret or DRAGON_SITE_APPLICATION_CREDENTIAL_SECRET is required',
          );
        const client = await ctx.client();
        const { site: row } = await client.post<{ site: Site }>(path(), {
          site: {
            name,
            auth_url: opts.authUrl,
            application_credential_id: opts.applicationCredentialId,
            application_credential_secret: secret,
            region_name: opts.regionName,
            interface: opts.interface,
          },
        });
        ctx.printShow(row, SHOW_COLUMNS, opts);
      },
    );

  site
    .command('delete')
    .description('Remove registered site(s)')
    .argument('<name...>', 'site name(s)')
    .action(async (names: string[]) => {
      const client = await ctx.client();
      let failed = 0;
      for (const name of names) {
        try {
          await client.delete(path(name));
        } catch (err) {
          failed++;
          ctx.warn(`Failed to delete site '${name}': ${describeError(err)}`);
        }
      }
      if (failed) throw new Error(`${failed} of ${names.length} sites failed to delete.`);
    });
}
