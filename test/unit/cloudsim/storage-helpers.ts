/** Sessions and a second tenant for the Glance and Cinder simulator tests. */
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

export function sessionFor(
  cloud: RunningCloud,
  who: { user: string; password: string; project: string },
  region = 'RegionOne',
): KeystoneSession {
  return new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: who.user, password: who.password, userDomainName: 'Default' },
    scope: { projectName: who.project, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
    retryDelayMs: 10,
  });
}

export const DEMO = { user: 'demo', password: 'DEMO_PASS', project: 'demo' };
export const ADMIN = { user: 'admin', password: 'ADMIN_PASS', project: 'admin' };
export const OTHER = { user: 'alice', password: 'ALICE_PASS', project: 'other' };

/** A second tenant (project `other`, member `alice`) to check isolation. */
export function addOtherTenant(cloud: RunningCloud): string {
  const store = cloud.keystone.store;
  const project =
    store.findProject({ name: 'other', domainId: 'default' }) ?? store.createProject({ name: 'other' });
  const user =
    store.findUser({ name: 'alice', domainId: 'default' }) ??
    store.createUser({ name: 'alice', password: 'ALICE_PASS', defaultProjectId: project.id });
  store.grant(user.id, store.ensureRole('member').id, { projectId: project.id });
  return project.id;
}
