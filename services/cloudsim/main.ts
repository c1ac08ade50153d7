/**
 * `dragon-cloudsim`: two simulated OpenStack sites on loopback for the
 * quickstart, demos and tests. Prints the endpoints, writes clouds.yaml,
 * prints `ready` last, and stops cleanly on SIGTERM/SIGINT.
 * `dragon-cloudsim site off|on|show [<region>]` switches a running
 * simulator's site off and on (site-switch.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { type RunningCloudSim, startCloudSim } from './launch.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
}

async function serve(): Promise<void> {
  const program = new Command('dragon-cloudsim')
    .description(
      'Simulated two-site OpenStack cloud (Keystone, Swift, ...) for the Dragon quickstart and tests',
    )
    .option('--data-dir <dir>', 'keep the sites data here (default: a temporary directory removed on exit)')
    .option('--clouds-yaml <file>', 'write a clouds.yaml with sim-primary, sim-backup and sim-admin')
    .option('--two-clouds', 'two independent Keystones (primary RegionOne, backup RegionTwo)', false)
    .option('--keystone-port <n>', 'Keystone port (0 = any free port)', port, 0)
    .option('--admin-port <n>', 'fault-injection endpoint port (0 = any free port)', port, 0)
    .addHelpText(
      'after',
      "\nA running simulator's sites are switched off and on with:\n  dragon-cloudsim site off|on|show [<region>]   (dragon-cloudsim site --help)",
    )
    .parse();

  const o = program.opts<{
    dataDir?: string;
    cloudsYaml?: string;
    twoClouds: boolean;
    keystonePort: number;
    adminPort: number;
  }>();

  // Handlers first: a signal that arrives while the sites start still stops them cleanly.
  let starting: Promise<RunningCloudSim | undefined> = Promise.resolve(undefined);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`dragon-cloudsim: ${signal}, stopping\n`);
    try {
      await (await starting)?.close();
      process.exit(0);
    } catch (err) {
      process.stderr.write(`dragon-cloudsim: stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  starting = startCloudSim({
    dataDir: o.dataDir,
    cloudsYaml: o.cloudsYaml,
    twoClouds: o.twoClouds,
    keystonePort: o.keystonePort,
    adminPort: o.adminPort,
  }).catch((err: Error) => {
    process.stderr.write(`dragon-cloudsim: could not start: ${err.message}\n`);
    process.exit(1);
  });
  const sim = await starting;
  if (sim && !stopping) {
    for (const line of sim.describe()) process.stdout.write(`${line}\n`);
    process.stdout.write('ready\n');
  }
}

if (process.argv[2] === 'site') {
  // Loaded only here: starting the simulator stays as quick as it was.
  const { runSiteSwitch } = await import('./site-switch.js');
  process.exitCode = await runSiteSwitch(process.argv.slice(3), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
} else {
  await serve();
}
