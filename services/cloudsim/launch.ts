/**
 * Starting the whole simulator as the `dragon-cloudsim` command and the
 * quickstart do: the cloud (one Keystone with two regions, or two clouds),
 * every registered service, the fault endpoint and a clouds.yaml.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AdminApiOptions, type RunningAdminApi, startAdminApi } from './admin-api.js';
import { type RunningCloud, startCloud } from './cloud.js';
import { type CloudsYaml, writeCloudsYaml } from './clouds-yaml.js';
import { writeSimulatorState } from './quickstart-state.js';
import { allServices } from './services.js';
import type { ServiceFactory } from './site.js';
import { type RunningTwoClouds, startTwoClouds } from './two-clouds.js';

export interface CloudSimOptions {
  /** Persistent data directory; a temporary one (removed on close) when omitted. */
  dataDir?: string;
  cloudsYaml?: string;
  twoClouds?: boolean;
  /** Keystone port (the primary's in two-clouds mode; the backup's is `keystonePort + 1` unless 0). */
  keystonePort?: number;
  adminPort?: number;
  services?: ServiceFactory[];
}

export interface RunningCloudSim {
  cloud: RunningCloud | RunningTwoClouds;
  admin: RunningAdminApi;
  dataDir: string;
  cloudsYaml?: CloudsYaml;
  /** Human-readable lines: Keystone URL(s), each region's endpoints, the fault endpoint. */
  describe(): string[];
  close(): Promise<void>;
}

export async function startCloudSim(opts: CloudSimOptions = {}): Promise<RunningCloudSim> {
  const temporary = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dragon-cloudsim-'));
  const services = opts.services ?? allServices;
  const port = opts.keystonePort ?? 0;
  const cloud = opts.twoClouds
    ? await startTwoClouds({ dataDir, services, keystonePorts: [port, port ? port + 1 : 0] })
    : await startCloud({ dataDir, services, keystonePort: port });
  const tokens: AdminApiOptions['tokens'] =
    'mode' in cloud
      ? [cloud.primary.keystone.provider, cloud.backup.keystone.provider]
      : [cloud.keystone.provider];
  const admin = await startAdminApi({ faults: cloud.faults, tokens, port: opts.adminPort });
  const cloudsYaml = opts.cloudsYaml ? writeCloudsYaml(opts.cloudsYaml, cloud) : undefined;
  if (!temporary) {
    // `dragon-cloudsim site off|on --state-dir <data dir>` finds the fault endpoint and an admin here.
    const yamlPath = opts.cloudsYaml ?? join(dataDir, 'clouds.yaml');
    if (!opts.cloudsYaml) writeCloudsYaml(yamlPath, cloud);
    writeSimulatorState(dataDir, {
      faults_url: `${admin.url}/sim/faults`,
      keystone_url: `${'mode' in cloud ? cloud.primary.keystone.url : cloud.keystone.url}/v3`,
      clouds_yaml: resolve(yamlPath),
      regions: Object.keys(cloud.sites),
    });
  }

  const describe = (): string[] => {
    const lines: string[] = [];
    const keystones =
      'mode' in cloud
        ? [
            [cloud.primary.keystone.url, cloud.primary.region],
            [cloud.backup.keystone.url, cloud.backup.region],
          ]
        : [[cloud.keystone.url, Object.keys(cloud.sites).join(', ')]];
    for (const [url, regions] of keystones) lines.push(`keystone ${url}/v3 (${regions})`);
    for (const [region, site] of Object.entries(cloud.sites))
      for (const [type, s] of site.services)
        lines.push(`${region} ${type} ${s.catalogUrl(site.endpoints[type])}`);
    lines.push(`faults ${admin.url}/sim/faults/<region>`);
    if (opts.cloudsYaml) lines.push(`clouds.yaml ${opts.cloudsYaml}`);
    lines.push(`data ${dataDir}`);
    return lines;
  };

  return {
    cloud,
    admin,
    dataDir,
    cloudsYaml,
    describe,
    async close() {
      await admin.close();
      await cloud.close();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
