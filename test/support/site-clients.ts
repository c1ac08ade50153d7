/**
 * SiteClients for the demo tenant at one region of the simulated cloud
 * (RegionOne is the primary, RegionTwo the backup), the way the engine
 * hands them to plugins and the template builder.
 */
import type { RunningCloud } from '../../services/cloudsim/cloud.js';
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

export function demoSiteClients(cloud: RunningCloud, region: string): SiteClientsHandle {
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
    retryDelayMs: 5,
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
