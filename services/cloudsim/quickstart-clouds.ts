/** The clouds.yaml the quickstart writes: sim-primary, sim-backup (demo member) and sim-admin. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { RunningCloud } from './cloud.js';

export function quickstartClouds(cloud: RunningCloud): Record<string, unknown> {
  const [primary, backup] = Object.keys(cloud.sites);
  const authUrl = `${cloud.keystone.url}/v3`;
  const entry = (user: { userName: string; password: string }, project: string, region: string) => ({
    auth: {
      auth_url: authUrl,
      username: user.userName,
      password: user.password,
      project_name: project,
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
    region_name: region,
    interface: 'public',
    identity_api_version: 3,
  });
  return {
    clouds: {
      'sim-primary': entry(cloud.demo, cloud.demo.projectName, primary),
      'sim-backup': entry(cloud.demo, cloud.demo.projectName, backup ?? primary),
      'sim-admin': entry(cloud.admin, cloud.admin.projectName, primary),
    },
  };
}

export function writeQuickstartCloudsYaml(path: string, cloud: RunningCloud): void {
  mkdirSync(dirname(path), { recursive: true });
  // Passwords inside: readable by the owner only.
  writeFileSync(path, stringify(quickstartClouds(cloud)), { mode: 0o600 });
}
