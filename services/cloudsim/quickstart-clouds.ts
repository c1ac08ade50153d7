/** The clouds.yaml the quickstart writes: sim-primary, sim-backup (demo member) and sim-admin. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * Dragon's configuration for the simulator: its Keystone (Dragon's service
 * user, JWS keys), one site per region, and a secret key kept in the state
 * directory (so registered site secrets stay readable across restarts).
 */
export function writeQuickstartConfig(
  path: string,
  // A whole simulated cloud, or one cloud of the two-clouds mode: its Keystone and its regions.
  // Only the region names are read of `sites`.
  cloud: { sites: Record<string, unknown>; keystone: { url: string; keyDir: string } },
  statePath: string,
): void {
  const keyFile = join(statePath, 'secret_key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const regions = Object.keys(cloud.sites);
  const lines = [
    '# Written by npm start for the built-in cloud simulator; rewritten at every start.',
    '[keystone_authtoken]',
    `auth_url = ${cloud.keystone.url}/v3`,
    `www_authenticate_uri = ${cloud.keystone.url}/v3`,
    'username = dragon',
    'password = DRAGON_PASS',
    'project_name = service',
    'user_domain_name = Default',
    'project_domain_name = Default',
    'interface = public',
    `region_name = ${regions[0]}`,
    `jws_public_key_repository = ${join(cloud.keystone.keyDir, 'public')}`,
    '',
    '[sites]',
    `default_primary_site = ${regions[0]}`,
    `secret_key = ${readFileSync(keyFile, 'utf8').trim()}`,
    '',
    ...regions.flatMap((r) => [
      `[site:${r}]`,
      `region_name = ${r}`,
      `description = simulated region ${r}`,
      '',
    ]),
  ];
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
