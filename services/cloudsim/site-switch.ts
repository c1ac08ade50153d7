/**
 * `dragon-cloudsim site off|on|show [<region>]`: switches a simulated site
 * off (every API of the region drops its connections, the disaster) and on
 * again, through the simulator's fault endpoint, as the cloud admin of the
 * clouds.yaml the simulator wrote (`sim-admin`). The endpoint and the
 * clouds.yaml are found in `<state dir>/cloudsim.json` (`npm start`'s state
 * directory by default), so a user types only the region.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { KeystoneSession } from '../common/openstack/session.js';
import { type CloudsYaml, sessionOptionsFor } from './clouds-yaml.js';
import { readSimulatorState } from './quickstart-state.js';

export interface SiteFaultsView {
  outage: boolean;
  services: Record<string, unknown>;
  stuck: string[];
}

export interface FaultEndpoint {
  /** `<url>/sim/faults`. */
  faultsUrl: string;
  /** An admin token of the simulated Keystone. */
  token: string;
}

export interface SiteSwitchIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
}

async function call(
  ep: FaultEndpoint,
  method: string,
  region: string | undefined,
  body?: unknown,
): Promise<unknown> {
  const url = region ? `${ep.faultsUrl}/${encodeURIComponent(region)}` : ep.faultsUrl;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { 'x-auth-token': ep.token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new Error(`the fault endpoint ${ep.faultsUrl} does not answer (is the simulator running?): ${err}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`${method} ${url}: ${res.status} ${message}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** The region's faults right now. */
export async function getSiteFaults(ep: FaultEndpoint, region: string): Promise<SiteFaultsView> {
  return (await call(ep, 'GET', region)) as SiteFaultsView;
}

/** Every region's faults. */
export async function listSiteFaults(ep: FaultEndpoint): Promise<Record<string, SiteFaultsView>> {
  return (await call(ep, 'GET', undefined)) as Record<string, SiteFaultsView>;
}

/**
 * Switches the whole site off (`outage: true`) or on. PUT replaces all of a
 * region's faults, so the injected latencies and errors are read first and
 * sent back unchanged: only the outage flips.
 */
export async function setSiteOutage(
  ep: FaultEndpoint,
  region: string,
  outage: boolean,
): Promise<SiteFaultsView> {
  const current = await getSiteFaults(ep, region);
  return (await call(ep, 'PUT', region, { ...current, outage })) as SiteFaultsView;
}

export interface FaultEndpointOptions {
  stateDir: string;
  /** The clouds.yaml cloud to authenticate as (an admin). */
  cloud: string;
  faultsUrl?: string;
  cloudsYaml?: string;
}

/** Finds the fault endpoint and gets an admin token from the simulated Keystone. */
export async function openFaultEndpoint(
  o: FaultEndpointOptions,
): Promise<FaultEndpoint & { regions: string[] }> {
  const state =
    o.faultsUrl && o.cloudsYaml
      ? { faults_url: o.faultsUrl, clouds_yaml: o.cloudsYaml, regions: [] as string[] }
      : readSimulatorState(o.stateDir);
  const cloudsYaml = o.cloudsYaml ?? state.clouds_yaml;
  const doc = parse(readFileSync(cloudsYaml, 'utf8')) as CloudsYaml;
  const entry = doc.clouds?.[o.cloud];
  if (!entry) throw new Error(`no cloud ${o.cloud} in ${cloudsYaml}`);
  const session = new KeystoneSession(sessionOptionsFor(entry));
  try {
    return {
      faultsUrl: (o.faultsUrl ?? state.faults_url).replace(/\/+$/, ''),
      token: await session.getToken(),
      regions: state.regions,
    };
  } finally {
    await session.close();
  }
}

function describe(region: string, f: SiteFaultsView): string {
  const extras = [
    ...Object.keys(f.services ?? {}).map((s) => `${s} faults`),
    ...(f.stuck?.length ? [`${f.stuck.length} stuck`] : []),
  ];
  return `${region}: ${f.outage ? 'off (every API of the site drops its connections)' : 'on'}${
    extras.length ? ` [${extras.join(', ')}]` : ''
  }`;
}

/** Adds `site off|on|show` to the dragon-cloudsim program. */
export function registerSiteSwitchCommands(program: Command, io: SiteSwitchIo): void {
  const site = program
    .command('site')
    .description('Switch a simulated site off (a disaster) and on again, through the fault endpoint')
    .option(
      '--state-dir <dir>',
      'where the simulator left cloudsim.json (default: $DRAGON_DEFAULT__STATE_PATH or ./state, as npm start)',
    )
    .option('--os-cloud <name>', 'admin cloud of the clouds.yaml to authenticate as', 'sim-admin')
    .option('--faults-url <url>', 'the fault endpoint (<url>/sim/faults), instead of cloudsim.json')
    .option('--clouds-yaml <file>', 'the clouds.yaml, instead of the one cloudsim.json names');
  const endpoint = () => {
    const o = site.opts<{ stateDir?: string; osCloud: string; faultsUrl?: string; cloudsYaml?: string }>();
    return openFaultEndpoint({
      stateDir: resolve(o.stateDir ?? io.env.DRAGON_DEFAULT__STATE_PATH ?? 'state'),
      cloud: o.osCloud,
      faultsUrl: o.faultsUrl,
      cloudsYaml: o.cloudsYaml,
    });
  };
  const check = (region: string, regions: string[]) => {
    if (regions.length && !regions.includes(region))
      throw new Error(`no region ${region}; the simulated regions are ${regions.join(', ')}`);
  };
  for (const [name, outage, what] of [
    ['off', true, 'Switch the site off: every API of the region stops answering'],
    ['on', false, 'Switch the site on again'],
  ] as const) {
    site
      .command(name)
      .description(what)
      .argument('<region>', 'the region (site), e.g. RegionOne')
      .action(async (region: string) => {
        const ep = await endpoint();
        check(region, ep.regions);
        io.stdout.write(`${describe(region, await setSiteOutage(ep, region, outage))}\n`);
      });
  }
  site
    .command('show')
    .description("Show a site's faults (every site when no region is given)")
    .argument('[region]', 'the region (site)')
    .action(async (region: string | undefined) => {
      const ep = await endpoint();
      if (region) {
        check(region, ep.regions);
        io.stdout.write(`${describe(region, await getSiteFaults(ep, region))}\n`);
        return;
      }
      for (const [r, f] of Object.entries(await listSiteFaults(ep))) io.stdout.write(`${describe(r, f)}\n`);
    });
}

/** Runs `site ...` (argv without node, script and `site`'s parent) and returns the exit status. */
export async function runSiteSwitch(argv: string[], io: SiteSwitchIo): Promise<number> {
  const program = new Command('dragon-cloudsim')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerSiteSwitchCommands(program, io);
  try {
    await program.parseAsync(['site', ...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`dragon-cloudsim site: ${(err as Error).message}\n`);
    return 1;
  }
}
