/**
 * The cloud a contract test runs against, chosen by DRAGON_CLOUD_TARGET:
 *  - `sim` (default): the whole simulator (every service), started in process;
 *  - `real`: the mini cloud of test/realcloud/minicloud (OpenStack Zed from Debian's
 *    packages), found through the clouds.yaml in DRAGON_REALCLOUD_CLOUDS_YAML.
 * The same test file runs against both, so every client call is checked against the
 * simulator and the real services. With `real`, a cloud that is not up fails the suite
 * with the command that brings it up — never a silent skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { RunningCloud } from '../../services/cloudsim/cloud.js';
import { CinderClient } from '../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../services/common/openstack/glance.js';
import { HeatClient } from '../../services/common/openstack/heat.js';
import { NeutronClient } from '../../services/common/openstack/neutron.js';
import { NovaClient } from '../../services/common/openstack/nova.js';
import { KeystoneSession, type SessionOptions } from '../../services/common/openstack/session.js';
import { SwiftClient, type SwiftClientOptions } from '../../services/common/openstack/swift.js';
import { type Clients, startWholeCloud } from '../unit/cloudsim/together-support.js';

export type TargetKind = 'sim' | 'real';
export type Persona = 'admin' | 'demo' | 'dr';

export const MINICLOUD_UP = 'test/realcloud/minicloud up && eval "$(test/realcloud/minicloud env)"';

export function targetKind(): TargetKind {
  const v = process.env.DRAGON_CLOUD_TARGET ?? 'sim';
  if (v !== 'sim' && v !== 'real') throw new Error(`DRAGON_CLOUD_TARGET must be sim or real, not ${v}`);
  return v;
}

export interface CloudTarget {
  kind: TargetKind;
  /** Keystone v3 URL. */
  authUrl: string;
  sessionOptions(who: Persona): SessionOptions;
  clients(who: Persona, swift?: SwiftClientOptions): Clients;
  /** A flavor that exists at the target (the simulator's and the mini cloud's smallest). */
  flavorName: string;
  close(): Promise<void>;
}

interface CloudsYamlEntry {
  auth: {
    auth_url: string;
    username: string;
    password: string;
    project_name: string;
    user_domain_name?: string;
    project_domain_name?: string;
  };
  region_name?: string;
}

/** The entries of the mini cloud's clouds.yaml (`real-admin`, `real-demo`, `real-dr`, ...). */
export function readRealClouds(): Record<string, CloudsYamlEntry> {
  const file = process.env.DRAGON_REALCLOUD_CLOUDS_YAML ?? '/var/tmp/dragon-minicloud/clouds.yaml';
  if (!existsSync(file)) {
    throw new Error(`the mini cloud is not up: ${file} does not exist. Bring it up with: ${MINICLOUD_UP}`);
  }
  return (parse(readFileSync(file, 'utf8')) as { clouds: Record<string, CloudsYamlEntry> }).clouds;
}

export function sessionOptionsOf(entry: CloudsYamlEntry): SessionOptions {
  return {
    authUrl: entry.auth.auth_url,
    auth: {
      type: 'password',
      username: entry.auth.username,
      password: entry.auth.password,
      userDomainName: entry.auth.user_domain_name ?? 'Default',
    },
    scope: {
      projectName: entry.auth.project_name,
      projectDomainName: entry.auth.project_domain_name ?? 'Default',
    },
    regionName: entry.region_name ?? 'RegionOne',
    interface: 'public',
  };
}

function clientsFrom(session: KeystoneSession, swift: SwiftClientOptions = {}): Clients {
  return {
    session,
    nova: new NovaClient(session),
    neutron: new NeutronClient(session),
    cinder: new CinderClient(session),
    glance: new GlanceClient(session),
    heat: new HeatClient(session),
    swift: new SwiftClient(session, swift),
  };
}

/** Fails with the command to run when Keystone of the mini cloud does not answer. */
export async function requireRealCloud(authUrl: string): Promise<void> {
  try {
    const res = await fetch(authUrl, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(
      `the mini cloud is not up: Keystone at ${authUrl} does not answer (${(err as Error).message}). ` +
        `Bring it up with: ${MINICLOUD_UP}`,
    );
  }
}

export async function openCloudTarget(): Promise<CloudTarget> {
  const sessions: KeystoneSession[] = [];
  const track = (s: KeystoneSession) => {
    sessions.push(s);
    return s;
  };
  const closeSessions = () => Promise.all(sessions.map((s) => s.close().catch(() => {})));

  if (targetKind() === 'real') {
    const clouds = readRealClouds();
    const entry = (who: Persona) => {
      const e = clouds[`real-${who}`];
      if (!e) throw new Error(`clouds.yaml of the mini cloud has no cloud real-${who}`);
      return e;
    };
    const authUrl = entry('admin').auth.auth_url;
    await requireRealCloud(authUrl);
    return {
      kind: 'real',
      authUrl,
      sessionOptions: (who) => sessionOptionsOf(entry(who)),
      clients: (who, swift) => clientsFrom(track(new KeystoneSession(sessionOptionsOf(entry(who)))), swift),
      flavorName: 'm1.tiny',
      close: async () => {
        await closeSessions();
      },
    };
  }

  const cloud: RunningCloud = await startWholeCloud();
  const authUrl = `${cloud.keystone.url}/v3`;
  // The recovery side's project, as the mini cloud's real-dr: another project with a member user.
  const store = cloud.keystone.store;
  const drProject =
    store.findProject({ name: 'dr', domainId: 'default' }) ?? store.createProject({ name: 'dr' });
  const drUser =
    store.findUser({ name: 'dr', domainId: 'default' }) ??
    store.createUser({ name: 'dr', password: 'DR_PASS', defaultProjectId: drProject.id });
  store.grant(drUser.id, store.ensureRole('member').id, { projectId: drProject.id });
  const dr = { userName: 'dr', password: 'DR_PASS', projectName: 'dr' };
  const sessionOptions = (who: Persona): SessionOptions => {
    const u = who === 'demo' ? cloud.demo : who === 'dr' ? dr : cloud.admin;
    return {
      authUrl,
      auth: { type: 'password', username: u.userName, password: u.password, userDomainName: 'Default' },
      scope: { projectName: u.projectName, projectDomainName: 'Default' },
      regionName: 'RegionOne',
      interface: 'public',
    };
  };
  return {
    kind: 'sim',
    authUrl,
    sessionOptions,
    clients: (who, swift) => clientsFrom(track(new KeystoneSession(sessionOptions(who))), swift),
    flavorName: 'm1.tiny',
    close: async () => {
      await closeSessions();
      await cloud.close();
    },
  };
}
