/**
 * The clouds.yaml the simulator leaves for clients (python-openstackclient,
 * python-swiftclient, Dragon's own config): `sim-primary` (the demo member
 * at RegionOne), `sim-backup` (the demo member at RegionTwo — of the second
 * Keystone in two-clouds mode) and `sim-admin` (admin at RegionOne).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { SessionOptions } from '../common/openstack/session.js';
import type { RunningCloud } from './cloud.js';
import type { RunningTwoClouds } from './two-clouds.js';

export interface CloudsYamlEntry {
  auth: {
    auth_url: string;
    username: string;
    password: string;
    project_name: string;
    user_domain_name: string;
    project_domain_name: string;
  };
  region_name: string;
  /**
   * Every region of this Keystone, this entry's own first: openstacksdk only
   * accepts `--os-region-name` for a region listed here (with region_name
   * alone it rejects any other), and takes the first as the default.
   */
  regions?: string[];
  interface: 'public' | 'internal' | 'admin';
  identity_api_version: 3;
}

export interface CloudsYaml {
  clouds: Record<string, CloudsYamlEntry>;
}

function entry(
  keystoneUrl: string,
  user: { userName: string; password: string; projectName: string },
  region: string,
  allRegions: string[] = [region],
): CloudsYamlEntry {
  return {
    auth: {
      auth_url: `${keystoneUrl}/v3`,
      username: user.userName,
      password: user.password,
      project_name: user.projectName,
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
    region_name: region,
    regions: [region, ...allRegions.filter((r) => r !== region)],
    interface: 'public',
    identity_api_version: 3,
  };
}

export function cloudsYamlFor(cloud: RunningCloud | RunningTwoClouds): CloudsYaml {
  if ('mode' in cloud && cloud.mode === 'two-clouds') {
    return {
      clouds: {
        'sim-primary': entry(cloud.primary.keystone.url, cloud.primary.demo, cloud.primary.region),
        'sim-backup': entry(cloud.backup.keystone.url, cloud.backup.demo, cloud.backup.region),
        'sim-admin': entry(cloud.primary.keystone.url, cloud.primary.admin, cloud.primary.region),
        'sim-backup-admin': entry(cloud.backup.keystone.url, cloud.backup.admin, cloud.backup.region),
      },
    };
  }
  const one = cloud as RunningCloud;
  const regions = Object.keys(one.sites);
  const [first, second] = regions;
  return {
    clouds: {
      'sim-primary': entry(one.keystone.url, one.demo, first, regions),
      'sim-backup': entry(one.keystone.url, one.demo, second ?? first, regions),
      'sim-admin': entry(one.keystone.url, one.admin, first, regions),
    },
  };
}

/** Writes the clouds.yaml (mode 0600: it holds passwords) and returns what it wrote. */
export function writeCloudsYaml(path: string, cloud: RunningCloud | RunningTwoClouds): CloudsYaml {
  const doc = cloudsYamlFor(cloud);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return doc;
}

/** KeystoneSession options for one clouds.yaml entry (password auth, project scope). */
export function sessionOptionsFor(c: CloudsYamlEntry): SessionOptions {
  return {
    authUrl: c.auth.auth_url,
    auth: {
      type: 'password',
      username: c.auth.username,
      password: c.auth.password,
      userDomainName: c.auth.user_domain_name,
    },
    scope: { projectName: c.auth.project_name, projectDomainName: c.auth.project_domain_name },
    regionName: c.region_name,
    interface: c.interface,
  };
}
