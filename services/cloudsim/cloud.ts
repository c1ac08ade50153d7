/**
 * A simulated two-site cloud: one Keystone serving RegionOne and RegionTwo
 * (the primary and the backup site), each region with the services given.
 * A demo project with a member user is created for the tenant's view.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIdentity, saveIdentity } from './identity-file.js';
import { type RunningKeystone, startKeystone } from './keystone.js';
import { type RunningSite, type ServiceFactory, startSite } from './site.js';
import { SiteFaults } from './site-faults.js';
import { IdentityStore } from './store.js';

export interface CloudOptions {
  /** Where sites keep their data; a temporary directory when omitted. */
  dataDir?: string;
  regions?: string[];
  /** Service factories started in every region. */
  services: ServiceFactory[];
  keystonePort?: number;
  tokenExpiration?: number;
  /** Keep identities in `<dataDir>/keystone/identity.json` across restarts (the quickstart). */
  persistIdentity?: boolean;
}

export interface DemoIdentity {
  projectId: string;
  projectName: string;
  userName: string;
  password: string;
}

export interface RunningCloud {
  keystone: RunningKeystone;
  sites: Record<string, RunningSite>;
  faults: Record<string, SiteFaults>;
  dataDir: string;
  demo: DemoIdentity;
  admin: { userName: string; password: string; projectName: string };
  close(): Promise<void>;
}

export async function startCloud(opts: CloudOptions): Promise<RunningCloud> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cloudsim-'));
  const regions = opts.regions ?? ['RegionOne', 'RegionTwo'];
  const identityFile = join(dataDir, 'keystone', 'identity.json');
  const restored = new IdentityStore();
  if (opts.persistIdentity) loadIdentity(restored, identityFile);
  const keystone = await startKeystone({
    port: opts.keystonePort,
    keyDir: join(dataDir, 'keystone', 'jws-keys'),
    tokenExpiration: opts.tokenExpiration,
    bootstrap: { regionId: regions[0] },
    store: restored,
  });
  const store = keystone.store;
  for (const r of regions.slice(1)) {
    if (!store.regions.has(r)) store.createRegion(r);
    store.registerService('identity', 'keystone', `${keystone.url}/v3/`, r);
  }
  const demoProject =
    store.findProject({ name: 'demo', domainId: 'default' }) ?? store.createProject({ name: 'demo' });
  const demoUser =
    store.findUser({ name: 'demo', domainId: 'default' }) ??
    store.createUser({ name: 'demo', password: 'DEMO_PASS', defaultProjectId: demoProject.id });
  store.grant(demoUser.id, store.ensureRole('member').id, { projectId: demoProject.id });

  const sites: Record<string, RunningSite> = {};
  const faults: Record<string, SiteFaults> = {};
  for (const region of regions) {
    faults[region] = new SiteFaults();
    sites[region] = await startSite({
      region,
      dataDir,
      identity: store,
      tokens: keystone.provider,
      faults: faults[region],
      factories: opts.services,
    });
  }
  let saver: NodeJS.Timeout | undefined;
  if (opts.persistIdentity) {
    saveIdentity(store, identityFile);
    // Tenants may create users, credentials and trusts while it runs; save them now and then.
    saver = setInterval(() => saveIdentity(store, identityFile), 5000);
    saver.unref();
  }
  return {
    keystone,
    sites,
    faults,
    dataDir,
    demo: { projectId: demoProject.id, projectName: 'demo', userName: 'demo', password: 'DEMO_PASS' },
    admin: { userName: 'admin', password: 'ADMIN_PASS', projectName: 'admin' },
    async close() {
      clearInterval(saver);
      if (opts.persistIdentity) saveIdentity(store, identityFile);
      for (const s of Object.values(sites)) await s.close();
      await keystone.close();
      // A directory the simulator made for itself holds gigabytes of volume and object
      // data that nobody can use once it is closed; one given by the caller is theirs.
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
