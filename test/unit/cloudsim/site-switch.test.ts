/**
 * `dragon-cloudsim site off|on|show <region>`: a user switches a running
 * simulator's site off and on again from the command line, the command
 * finding the fault endpoint and the admin credentials in the state the
 * simulator left.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloudSim, startCloudSim } from '../../../services/cloudsim/launch.js';
import { readSimulatorState } from '../../../services/cloudsim/quickstart-state.js';
import { runSiteSwitch } from '../../../services/cloudsim/site-switch.js';
import { swiftService } from '../../../services/cloudsim/swift.js';

let sim: RunningCloudSim;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloudsim-site-switch-'));
  sim = await startCloudSim({ dataDir: dir, services: [swiftService] });
});
afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runSiteSwitch(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

/** Whether the region's Swift answers at all (an outage drops the connection). */
async function answers(region: string): Promise<boolean> {
  const site = sim.cloud.sites[region];
  try {
    await fetch(`${site.endpoints['object-store']}/info`);
    return true;
  } catch {
    return false;
  }
}

describe('dragon-cloudsim site', () => {
  it('records where the fault endpoint and an admin clouds.yaml are, without passwords', () => {
    const state = readSimulatorState(dir);
    expect(state.faults_url).toBe(`${sim.admin.url}/sim/faults`);
    expect(state.regions).toEqual(['RegionOne', 'RegionTwo']);
    expect(readFileSync(join(dir, 'cloudsim.json'), 'utf8')).not.toMatch(/PASS/);
    expect(statSync(state.clouds_yaml).mode & 0o077).toBe(0);
  });

  it('switches the primary site off and on again; the other site keeps answering', async () => {
    const off = await run(['off', 'RegionOne', '--state-dir', dir]);
    expect(off).toMatchObject({ code: 0, stderr: '' });
    expect(off.stdout).toMatch(/^RegionOne: off/);
    expect(await answers('RegionOne')).toBe(false);
    expect(await answers('RegionTwo')).toBe(true);

    const shown = await run(['show', '--state-dir', dir]);
    expect(shown.stdout).toMatch(/^RegionOne: off/m);
    expect(shown.stdout).toMatch(/^RegionTwo: on$/m);

    const on = await run(['on', 'RegionOne', '--state-dir', dir]);
    expect(on).toMatchObject({ code: 0, stdout: 'RegionOne: on\n' });
    expect(await answers('RegionOne')).toBe(true);
  });

  it('finds the state directory from DRAGON_DEFAULT__STATE_PATH like npm start', async () => {
    const off = await run(['off', 'RegionTwo'], { DRAGON_DEFAULT__STATE_PATH: dir });
    expect(off.code).toBe(0);
    expect(await answers('RegionTwo')).toBe(false);
    expect((await run(['on', 'RegionTwo'], { DRAGON_DEFAULT__STATE_PATH: dir })).code).toBe(0);
    expect(await answers('RegionTwo')).toBe(true);
  });

  it('flips only the outage: injected latencies and stuck resources stay', async () => {
    sim.cloud.faults.RegionOne.set('object-store', { latencyMs: 1 });
    sim.cloud.faults.RegionOne.stuck.add('some-volume');
    try {
      expect((await run(['off', 'RegionOne', '--state-dir', dir])).code).toBe(0);
      const on = await run(['on', 'RegionOne', '--state-dir', dir]);
      expect(on.stdout).toBe('RegionOne: on [object-store faults, 1 stuck]\n');
      expect(sim.cloud.faults.RegionOne.snapshot()).toMatchObject({
        outage: false,
        services: { 'object-store': { latencyMs: 1 } },
        stuck: ['some-volume'],
      });
    } finally {
      sim.cloud.faults.RegionOne.clear();
    }
  });

  it('refuses an unknown region, naming the ones there are', async () => {
    const r = await run(['off', 'RegionNine', '--state-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no region RegionNine; the simulated regions are RegionOne, RegionTwo');
  });

  it('refuses a tenant: only the cloud admin switches sites', async () => {
    const r = await run(['off', 'RegionOne', '--state-dir', dir, '--os-cloud', 'sim-primary']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('403');
    expect(await answers('RegionOne')).toBe(true);
  });

  it('says how to start a simulator when none left its state', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cloudsim-site-switch-none-'));
    try {
      const r = await run(['off', 'RegionOne', '--state-dir', empty]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('npm start');
      expect(r.stderr).toContain(join(empty, 'cloudsim.json'));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
