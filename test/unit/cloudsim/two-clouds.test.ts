import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudsYamlFor, sessionOptionsFor } from '../../../services/cloudsim/clouds-yaml.js';
import { type RunningCloudSim, startCloudSim } from '../../../services/cloudsim/launch.js';
import { swiftService } from '../../../services/cloudsim/swift.js';
import type { RunningTwoClouds } from '../../../services/cloudsim/two-clouds.js';
import {
  AuthenticationError,
  OpenStackConnectionError,
  type OpenStackHttpError,
} from '../../../services/common/openstack/errors.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';
import { CloudSimFaults } from '../../support/cloudsim.js';

let sim: RunningCloudSim;
let clouds: RunningTwoClouds;
const sessions: KeystoneSession[] = [];

beforeAll(async () => {
  sim = await startCloudSim({ twoClouds: true, services: [swiftService] });
  clouds = sim.cloud as RunningTwoClouds;
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await sim?.close();
});

function open(cloud: 'sim-primary' | 'sim-backup' | 'sim-admin' | 'sim-backup-admin') {
  // The same document writeCloudsYaml writes for this mode.
  const entry = cloudsYamlFor(clouds).clouds[cloud];
  const s = new KeystoneSession({ ...sessionOptionsFor(entry), retryDelayMs: 5 });
  sessions.push(s);
  return s;
}

describe('two independent clouds', () => {
  it('gives each Keystone only its own users, tokens and region', async () => {
    clouds.primary.keystone.store.createUser({ name: 'only-primary', password: 'PW_ONE_1' });
    const wrong = new KeystoneSession({
      authUrl: `${clouds.backup.keystone.url}/v3`,
      auth: { type: 'password', username: 'only-primary', password: 'PW_ONE_1', userDomainName: 'Default' },
    });
    sessions.push(wrong);
    await expect(wrong.authenticate()).rejects.toBeInstanceOf(AuthenticationError);

    const primary = open('sim-primary');
    const backup = open('sim-backup');
    const pa = await primary.authenticate();
    const ba = await backup.authenticate();
    expect(pa.projectId).not.toBe(ba.projectId);
    expect(pa.catalog.regionsFor('object-store')).toEqual(['RegionOne']);
    expect(ba.catalog.regionsFor('object-store')).toEqual(['RegionTwo']);

    // A primary token means nothing to the backup cloud's Swift.
    const backupUrl = await new SwiftClient(backup).accountUrl();
    const res = await fetch(backupUrl, { headers: { 'X-Auth-Token': await primary.getToken() } });
    expect(res.status).toBe(401);
    await new SwiftClient(backup).createContainer('bank');
    expect((await new SwiftClient(backup).listContainers()).map((c) => c.name)).toEqual(['bank']);
    expect(await new SwiftClient(primary).listContainers()).toEqual([]);
  });
});

describe('fault endpoint', () => {
  it('needs an admin token and switches outages, bursts and stuck ids per region', async () => {
    const faults = new CloudSimFaults(sim.admin.url, `${clouds.primary.keystone.url}/v3`);
    const backupAdminFaults = new CloudSimFaults(sim.admin.url, `${clouds.backup.keystone.url}/v3`);
    try {
      expect((await fetch(`${sim.admin.url}/sim/faults/RegionOne`)).status).toBe(401);
      const member = await open('sim-primary').getToken();
      expect(
        (await fetch(`${sim.admin.url}/sim/faults/RegionOne`, { headers: { 'X-Auth-Token': member } }))
          .status,
      ).toBe(403);
      // Either cloud's admin is accepted.
      expect(await backupAdminFaults.get('RegionTwo')).toEqual({ outage: false, services: {}, stuck: [] });

      const primary = new SwiftClient(open('sim-primary'), { retryDelayMs: 1 });
      const backup = new SwiftClient(open('sim-backup'));
      await backup.createContainer('bank');
      await faults.with('RegionOne', { outage: true, stuck: ['server-1'] }, async () => {
        expect((await faults.get('RegionOne')).stuck).toEqual(['server-1']);
        expect(clouds.faults.RegionOne.stuck.has('server-1')).toBe(true);
        await expect(primary.listContainers()).rejects.toBeInstanceOf(OpenStackConnectionError);
        await backup.putObject('bank', 'still', 'works');
      });
      expect(clouds.faults.RegionOne.outage).toBe(false);

      await faults.set('RegionTwo', { services: { 'object-store': { errorBurst: 2, methods: ['put'] } } });
      await backup.putObject('bank', 'retried', Buffer.from('after two 503s'));
      await faults.set('RegionTwo', { services: { 'object-store': { errorRate: 1 } } });
      const err = await backup.listContainers().catch((e) => e);
      expect((err as OpenStackHttpError).status).toBe(503);
      await faults.clear('RegionTwo');
      expect((await backup.listContainers()).map((c) => c.name)).toContain('bank');

      const bad = await faults.set('RegionOne', { services: { compute: { errorRate: 2 } } }).catch((e) => e);
      expect((bad as OpenStackHttpError).status).toBe(400);
      const missing = await faults.get('RegionNine').catch((e) => e);
      expect((missing as OpenStackHttpError).status).toBe(404);
    } finally {
      await faults.close();
      await backupAdminFaults.close();
    }
  });
});
