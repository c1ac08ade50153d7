/**
 * Two independent simulated clouds: each with its own Keystone (its own
 * users, projects, keys and catalog) and one region — the primary cloud's
 * RegionOne and the backup cloud's RegionTwo. A token of one cloud means
 * nothing to the other, which is what application-credential sites and
 * cross-cloud recovery must cope with. Built from the same pieces as
 * `startCloud` (one Keystone serving both regions).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoIdentity } from './cloud.js';
import { type RunningKeystone, startKeystone } from './keystone.js';
import { type RunningSite, type ServiceFactory, startSite } from './site.js';
import { SiteFaults } from './site-faults.js';

export interface TwoCloudsOptions {
  dataDir?: string;
  services: ServiceFactory[];
  /** Keystone ports of the primary and the backup cloud (0 = any free port). */
  keystonePorts?: [number, number];
  tokenExpiration?: number;
  regions?: [string, string];
}

export interface SimCloudMember {
  /** 'primary' or 'backup'. */
  role: 'primary' | 'backup';
  region: string;
  keystone: RunningKeystone;
  site: RunningSite;
  demo: DemoIdentity;
  admin: { userName: string; password: string; projectName: string };
}

export interface RunningTwoClouds {
  mode: 'two-clouds';
  primary: SimCloudMember;
  backup: SimCloudMember;
  sites: Record<string, RunningSite>;
  faults: Record<string, SiteFaults>;
  dataDir: string;
  close(): Promise<void>;
}

async function startMember(
  role: 'primary' | 'backup',
  region: string,
  dataDir: string,
  faults: SiteFaults,
  opts: TwoCloudsOptions,
  port: number | undefined,
): Promise<SimCloudMember> {
  const keystone = await startKeystone({
    port,
    keyDir: join(dataDir, `keystone-${role}`, 'jws-keys'),
    tokenExpiration: opts.tokenExpiration,
    bootstrap: { regionId: region },
  });
  const store = keystone.store;
  const project =
    store.findProject({ name: 'demo', domainId: 'default' }) ?? store.createProject({ name: 'demo' });
  const user =
    store.findUser({ name: 'demo', domainId: 'default' }) ??
    store.createUser({ name: 'demo', password: 'DEMO_PASS', defaultProjectId: project.id });
  store.grant(user.id, store.ensureRole('member').id, { projectId: project.id });
  const site = await startSite({
    region,
    dataDir,
    identity: store,
    tokens: keystone.provider,
    faults,
    factories: opts.services,
  });
  return {
    role,
    region,
    keystone,
    site,
    demo: { projectId: project.id, projectName: 'demo', userName: 'demo', password: 'DEMO_PASS' },
    admin: { userName: 'admin', password: 'ADMIN_PASS', projectName: 'admin' },
  };
}

export async function startTwoClouds(opts: TwoCloudsOptions): Promise<RunningTwoClouds> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cloudsim-'));
  const [r1, r2] = opts.regions ?? ['RegionOne', 'RegionTwo'];
  const faults = { [r1]: new SiteFaults(), [r2]: new SiteFaults() };
  const primary = await startMember('primary', r1, dataDir, faults[r1], opts, opts.keystonePorts?.[0]);
  let backup: SimCloudMember;
  try {
    backup = await startMember('backup', r2, dataDir, faults[r2], opts, opts.keystonePorts?.[1]);
  } catch (err) {
    await primary.site.close();
    await primary.keystone.close();
    throw err;
  }
  return {
    mode: 'two-clouds',
    primary,
    backup,
    sites: { [r1]: primary.site, [r2]: backup.site },
    faults,
    dataDir,
    async close() {
      for (const m of [primary, backup]) {
        await m.site.close();
        await m.keystone.close();
      }
    },
  };
}
