/**
 * The quickstart's demo workload: on the first `npm start` with the cloud
 * simulator, the three-tier "shop" (web, app, db servers, one network,
 * router, security groups, a floating IP, data volumes) is created at the
 * primary site as the demo user, so a new user has something to protect.
 * What was made is recorded in `<state>/demo-workload.json`; later starts
 * find it there and create nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { volumeFile, writeVolumeBytes } from '../cloudsim/cinder-data.js';
import type { RunningCloud } from '../cloudsim/cloud.js';
import { CinderClient } from '../common/openstack/cinder.js';
import { GlanceClient } from '../common/openstack/glance.js';
import { HeatClient } from '../common/openstack/heat.js';
import { NeutronClient } from '../common/openstack/neutron.js';
import { NovaClient } from '../common/openstack/nova.js';
import { KeystoneSession } from '../common/openstack/session.js';
import { SwiftClient } from '../common/openstack/swift.js';
import type { SiteClients } from '../engine/plugin-api.js';
import { buildThreeTier } from './three-tier.js';

export const DEMO_WORKLOAD_FILE = 'demo-workload.json';
export const DEMO_PREFIX = 'shop';

export interface DemoWorkload {
  region: string;
  project_id: string;
  created_at: string;
  servers: { web: string; app: string; db: string };
  volumes: { data: string; db: string };
  network: string;
  router: string;
  floating_ip: string;
  /** SHA-256 of the bytes the demo application wrote at the start of each volume. */
  written: Record<string, { bytes: number; sha256: string }>;
}

/** The demo user's clients at one region of the simulated cloud. */
function demoClients(cloud: RunningCloud, region: string): { clients: SiteClients; close(): Promise<void> } {
  const session = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: {
      type: 'password',
      username: cloud.demo.userName,
      password: cloud.demo.password,
      userDomainName: 'Default',
    },
    scope: { projectName: cloud.demo.projectName, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
  });
  return {
    clients: {
      name: region,
      region,
      projectId: cloud.demo.projectId,
      nova: new NovaClient(session),
      cinder: new CinderClient(session),
      glance: new GlanceClient(session),
      neutron: new NeutronClient(session),
      heat: new HeatClient(session),
      swift: new SwiftClient(session),
    },
    close: () => session.close(),
  };
}

/** What the shop's app and database "wrote" on their disks: a few recognisable records. */
export function demoVolumeBytes(kind: 'data' | 'db'): Buffer {
  const lines: string[] = [`# dragon quickstart ${kind} volume`];
  for (let i = 1; i <= 500; i++)
    lines.push(
      kind === 'data'
        ? `order ${String(i).padStart(5, '0')} customer-${i % 37} items=${(i * 7) % 11} total=${(i * 13.7).toFixed(2)}`
        : `INSERT INTO orders VALUES (${i}, 'customer-${i % 37}', ${(i * 13.7).toFixed(2)});`,
    );
  return Buffer.from(`${lines.join('\n')}\n`);
}

export function readDemoWorkload(statePath: string): DemoWorkload | undefined {
  const file = join(statePath, DEMO_WORKLOAD_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoWorkload) : undefined;
}

/**
 * Creates the demo workload at `region` unless the state directory records
 * one already, or a server named like its web server exists (a workload the
 * user made by hand, or a start interrupted after building it).
 */
export async function ensureDemoWorkload(
  cloud: RunningCloud,
  region: string,
  statePath: string,
): Promise<{ workload?: DemoWorkload; created: boolean }> {
  const recorded = readDemoWorkload(statePath);
  if (recorded) return { workload: recorded, created: false };
  const { clients, close } = demoClients(cloud, region);
  try {
    if ((await clients.nova.listServers({ name: `^${DEMO_PREFIX}-web$` })).length) return { created: false };
    // 1 GB volumes: the demo's protect, recovery and drill checks read every byte of them.
    const shop = await buildThreeTier(clients, { prefix: DEMO_PREFIX, dbVolumeSize: 1 });
    const written: DemoWorkload['written'] = {};
    for (const [kind, volume] of [
      ['data', shop.volumes.data],
      ['db', shop.volumes.db],
    ] as const) {
      const bytes = demoVolumeBytes(kind);
      await writeVolumeBytes(volumeFile(cloud.sites[region].context.dataDir, volume.id), bytes);
      written[volume.id] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    const workload: DemoWorkload = {
      region,
      project_id: cloud.demo.projectId,
      created_at: new Date().toISOString(),
      servers: { web: shop.servers.web.id, app: shop.servers.app.id, db: shop.servers.db.id },
      volumes: { data: shop.volumes.data.id, db: shop.volumes.db.id },
      network: shop.network.id,
      router: shop.router.id,
      floating_ip: shop.floatingIp.floating_ip_address,
      written,
    };
    const file = join(statePath, DEMO_WORKLOAD_FILE);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(workload, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return { workload, created: true };
  } finally {
    await close();
  }
}
