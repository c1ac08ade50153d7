/**
 * Where a running simulator can be reached, kept in `<dir>/cloudsim.json`
 * by `npm start` (in its state directory) and by `dragon-cloudsim
 * --data-dir`, so that `dragon-cloudsim site off|on` finds the fault
 * endpoint and the admin credentials without being told. No secrets inside:
 * the passwords stay in the clouds.yaml (mode 0600) it points to.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SIMULATOR_STATE_FILE = 'cloudsim.json';

export interface SimulatorState {
  /** The fault endpoint's base URL: `PUT <faults_url>/<region>`. */
  faults_url: string;
  /** Keystone's v3 URL. */
  keystone_url: string;
  /** The clouds.yaml with sim-primary, sim-backup and sim-admin. */
  clouds_yaml: string;
  /** Every simulated region, the primary site first. */
  regions: string[];
  /** Dragon's API (`.../v1`) when the all-in-one wrote the file. */
  dragon_url?: string;
}

export function simulatorStateFile(dir: string): string {
  return join(resolve(dir), SIMULATOR_STATE_FILE);
}

export function writeSimulatorState(dir: string, state: SimulatorState): string {
  mkdirSync(dir, { recursive: true });
  const file = simulatorStateFile(dir);
  // Written whole then renamed: a command reading it never sees half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

/** The state a running simulator left in `dir`; an error that says how to get one otherwise. */
export function readSimulatorState(dir: string): SimulatorState {
  const file = simulatorStateFile(dir);
  if (!existsSync(file))
    throw new Error(
      `${file} not found: start Dragon with npm start (or dragon-cloudsim --data-dir ${dir}), or give --state-dir`,
    );
  const state = JSON.parse(readFileSync(file, 'utf8')) as Partial<SimulatorState>;
  for (const key of ['faults_url', 'keystone_url', 'clouds_yaml'] as const)
    if (typeof state[key] !== 'string') throw new Error(`${file} has no ${key}`);
  return { regions: [], ...state } as SimulatorState;
}
