/**
 * SiteClients for the demo tenant at one region of the simulated cloud
 * (RegionOne is the primary, RegionTwo the backup), the way the engine
 * hands them to plugins and the template builder.
 */
import type { DemoIdentity, RunningCloud } from '../../services/cloudsim/cloud.js';
import { CinderClient } from '../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../services/common/openstack/glance.js';
import { HeatClient } from '../../services/common/openstack/heat.js';
import { NeutronClient } from '../../services/common/openstack/neutron.js';
import { NovaClient } from '../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../services/common/openstack/session.js';
import { SwiftClient } from '../../services/common/openstack/swift.js';
import type { SiteClients } from '../../services/engine/plugin-api.js';

export interface SiteClientsHandle {
  clients: SiteClients;
  close(): Promise<void>;
}

export interface Who {
  user: string;
  password: string;
  project: string;
  projectId: string;
}

/**
 * What these helpers need of a simulated cloud: a running one in this
 * process, or one on a worker thread (test/support/cloud-worker.ts), which
 * knows its admin project's id instead of having the identity store at hand.
 */
export interface SimCloudInfo {
  keystone: { url: string } & Partial<Pick<RunningCloud['keystone'], 'store'>>;
  demo: DemoIdentity;
  admin: RunningCloud['admin'];
  adminProjectId?: string;
}

export function demoSiteClients(cloud: SimCloudInfo, region: string): SiteClientsHandle {
  const d = cloud.demo;
  return siteClientsFor(cloud, region, {
    user: d.userName,
    password: d.password,
    project: d.projectName,
    projectId: d.projectId,
  });
}

/** The admin of the simulated cloud (to make shared networks and the like). */
export function adminSiteClients(cloud: SimCloudInfo, region: string): SiteClientsHandle {
  const a = cloud.admin;
  const projectId =
    cloud.adminProjectId ?? cloud.keystone.store?.findProject({ name: a.projectName })?.id ?? '';
  return siteClientsFor(cloud, region, {
    user: a.userName,
    password: a.password,
    project: a.projectName,
    projectId,
  });
}

export function siteClientsFor(
  cloud: { keystone: { url: string } },
  region: string,
  who: Who,
): SiteClientsHandle {
  const session = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: who.user, password: who.password, userDomainName: 'Default' },
    scope: { projectName: who.project, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
    retryDelayMs: 5,
  });
  return {
    clients: {
      name: region,
      region,
      projectId: who.projectId,
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
