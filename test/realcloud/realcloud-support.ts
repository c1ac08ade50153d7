/**
 * What the real-cloud suites read from the running mini cloud: its directory, the
 * Keystone URLs (JWS on :5000, fernet on :5001), Dragon's service user as deployed by
 * devstack/lib/dragon, and Dragon's endpoint from the catalog.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseIni } from 'ini';
import type { ServiceUserCredentials } from '../../services/common/openstack/trusts.js';
import { MINICLOUD_UP, readRealClouds, requireRealCloud } from '../support/cloud-target.js';

export const MINICLOUD_DIR = process.env.DRAGON_REALCLOUD_DIR ?? '/var/tmp/dragon-minicloud';
export const JWS_PUBLIC_KEYS = '/etc/keystone/jws-keys/public';

export interface RealCloudInfo {
  jwsUrl: string;
  fernetUrl: string;
  dragonConf: string;
  serviceUser: ServiceUserCredentials;
}

/** Fails (never skips) with the command to run when the mini cloud or its Dragon is missing. */
export async function realCloudInfo(): Promise<RealCloudInfo> {
  const clouds = readRealClouds();
  const jwsUrl = clouds['real-admin'].auth.auth_url;
  const fernetUrl = clouds['real-admin-fernet']?.auth.auth_url;
  if (!fernetUrl) throw new Error(`clouds.yaml has no real-admin-fernet: re-run ${MINICLOUD_UP}`);
  await requireRealCloud(jwsUrl);
  await requireRealCloud(fernetUrl);
  const dragonConf = join(MINICLOUD_DIR, 'dragon', 'dragon.conf');
  if (!existsSync(dragonConf))
    throw new Error(`Dragon is not deployed in the mini cloud (${dragonConf}): ${MINICLOUD_UP}`);
  const ka = (parseIni(readFileSync(dragonConf, 'utf8')) as Record<string, Record<string, string>>)
    .keystone_authtoken;
  return {
    jwsUrl,
    fernetUrl,
    dragonConf,
    serviceUser: {
      authUrl: ka.auth_url,
      username: ka.username,
      password: ka.password,
      userDomainName: ka.user_domain_name ?? 'Default',
      projectName: ka.project_name ?? 'service',
      projectDomainName: ka.project_domain_name ?? 'Default',
    },
  };
}
