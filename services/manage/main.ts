/**
 * dragon-manage: operator commands — database schema sync and version, and
 * the generated sample files (etc/dragon/dragon.conf.sample, policy sample).
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { renderPolicySample } from '../api/policy/index.js';
import { bootstrapConfig, databaseFrom } from '../common/bootstrap.js';
import { allGroups, renderSample } from '../common/config/index.js';
import { latestVersion, schemaVersion, syncSchema } from '../common/db/migrate.js';

export const CONFIG_SAMPLE_PATH = 'etc/dragon/dragon.conf.sample';
export const POLICY_SAMPLE_PATH = 'etc/dragon/policy.yaml.sample';

function output(text: string, file: string | undefined): void {
  if (file) {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  } else process.stdout.write(text);
}

const program = new Command('dragon-manage')
  .description('Dragon operator commands')
  .option(
    '--config-file <path>',
    'configuration file (repeatable, later wins)',
    (v, prev: string[]) => [...prev, v],
    [],
  )
  .option(
    '--config-dir <path>',
    'directory of *.conf files (repeatable)',
    (v, prev: string[]) => [...prev, v],
    [],
  );

function configArgs(): string[] {
  const o = program.opts<{ configFile: string[]; configDir: string[] }>();
  return [
    ...o.configFile.flatMap((f) => ['--config-file', f]),
    ...o.configDir.flatMap((d) => ['--config-dir', d]),
  ];
}

const db = program.command('db').description('database schema');
db.command('sync')
  .description('apply every pending migration')
  .action(async () => {
    const { conf } = bootstrapConfig('dragon-manage', configArgs());
    const knex = databaseFrom(conf);
    try {
      const applied = await syncSchema(knex);
      process.stdout.write(
        applied.length
          ? `applied ${applied.join(', ')}\n`
          : `database schema already at ${latestVersion()}\n`,
      );
    } finally {
      await knex.destroy();
    }
  });
db.command('version')
  .description('print the applied schema version')
  .action(async () => {
    const { conf } = bootstrapConfig('dragon-manage', configArgs());
    const knex = databaseFrom(conf);
    try {
      const v = await schemaVersion(knex);
      process.stdout.write(`${v ?? 'empty (run dragon-manage db sync)'}\n`);
      if (v !== latestVersion()) process.exitCode = 1;
    } finally {
      await knex.destroy();
    }
  });

const config = program.command('config').description('configuration');
config
  .command('sample')
  .description(`print the commented sample configuration (the source of ${CONFIG_SAMPLE_PATH})`)
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action((o: { output?: string }) => output(renderSample(allGroups), o.output));

program
  .command('policy')
  .description('API access policy')
  .command('sample')
  .description(`print every default policy rule, commented out (the source of ${POLICY_SAMPLE_PATH})`)
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action((o: { output?: string }) => output(renderPolicySample(), o.output));

await program.parseAsync(process.argv);
