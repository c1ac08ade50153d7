/**
 * The quickstart's demo workload: the first start gives the demo user a
 * running three-tier shop at the primary site with data on its volumes;
 * later starts leave it alone.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKLOAD_FILE, ensureDemoWorkload } from '../../../services/allinone/demo-workload.js';
import { volumeFile } from '../../../services/cloudsim/cinder-data.js';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import { demoSiteClients, type SiteClientsHandle } from '../../support/site-clients.js';

let cloud: RunningCloud;
let primary: SiteClientsHandle;
let state: string;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'demo-workload-'));
  cloud = await startCloud({ dataDir: join(state, 'cloudsim'), services: allServices });
  primary = demoSiteClients(cloud, 'RegionOne');
});
afterAll(async () => {
  await primary?.close();
  await cloud?.close();
  if (state) rmSync(state, { recursive: true, force: true });
});

async function head(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    await fh.read(buf, 0, bytes, 0);
    return buf;
  } finally {
    await fh.close();
  }
}

describe('the demo workload', () => {
  it('is created once at the primary site, as the demo user, with data on its volumes', async () => {
    const first = await ensureDemoWorkload(cloud, 'RegionOne', state);
    expect(first.created).toBe(true);
    const w = first.workload!;
    const { nova, cinder, neutron } = primary.clients;

    const servers = await nova.listServers();
    expect(servers.map((s) => [s.name, s.status]).sort()).toEqual([
      ['shop-app', 'ACTIVE'],
      ['shop-db', 'ACTIVE'],
      ['shop-web', 'ACTIVE'],
    ]);
    const [fip] = await neutron.listFloatingIps();
    expect(fip.floating_ip_address).toBe(w.floating_ip);
    const data = await cinder.getVolume(w.volumes.data);
    expect(data.attachments.map((a) => a.server_id)).toEqual([w.servers.app]);
    const db = await cinder.getVolume(w.volumes.db);
    expect(db.attachments.map((a) => a.server_id)).toEqual([w.servers.db]);
    // Nothing at the backup site.
    const backup = demoSiteClients(cloud, 'RegionTwo');
    try {
      expect(await backup.clients.nova.listServers()).toEqual([]);
    } finally {
      await backup.close();
    }

    // The app's and the database's bytes are on their disks, as recorded.
    for (const id of [w.volumes.data, w.volumes.db]) {
      const { bytes, sha256 } = w.written[id];
      const onDisk = await head(volumeFile(cloud.sites.RegionOne.context.dataDir, id), bytes);
      expect(createHash('sha256').update(onDisk).digest('hex')).toBe(sha256);
      expect(onDisk.toString()).toMatch(/^# dragon quickstart (data|db) volume/);
    }
  });

  it('is left alone by later starts, also when the record is gone', async () => {
    const again = await ensureDemoWorkload(cloud, 'RegionOne', state);
    expect(again.created).toBe(false);
    expect(again.workload?.servers).toBeDefined();
    rmSync(join(state, DEMO_WORKLOAD_FILE));
    const orphan = await ensureDemoWorkload(cloud, 'RegionOne', state);
    expect(orphan.created).toBe(false);
    expect(await primary.clients.nova.listServers()).toHaveLength(3);
    expect(await primary.clients.cinder.listVolumes()).toHaveLength(2);
  });
});
