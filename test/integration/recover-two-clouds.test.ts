/**
 * Two clouds, two Keystones: the tenant's Dragon in cloud A protects into a
 * site of cloud B registered with an application credential of cloud B
 * (the bank is in that project's Swift account), and names a project of
 * cloud B as bank reader. A Dragon of cloud B, used by a member of that
 * reader project with its own cloud-B credentials, reads the checkpoint
 * through the container's ACL and recovers the workload into its project.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeQuickstartConfig } from '../../services/cloudsim/quickstart-clouds.js';
import { allServices } from '../../services/cloudsim/services.js';
import { type RunningTwoClouds, startTwoClouds } from '../../services/cloudsim/two-clouds.js';
import { type FreshDragon, startFreshDragon } from '../support/fresh-dragon.js';
import type { Body } from '../support/protect-stack.js';
import { type SiteClientsHandle, siteClientsFor } from '../support/site-clients.js';
import { passwordToken } from '../support/tokens.js';

const fast = { intervalMs: 20, maxIntervalMs: 200, timeoutMs: 30_000 };

let clouds: RunningTwoClouds;
let dragonA: FreshDragon;
let dragonB: FreshDragon;
let primary: SiteClientsHandle;
let drSite: SiteClientsHandle;
let drTeamId: string;
let serverId: string;
let container: string;

beforeAll(async () => {
  clouds = await startTwoClouds({ services: allServices });
  const a = clouds.primary;
  const b = clouds.backup;
  // Cloud B: the demo project's application credential (for cloud A's Dragon), and the DR team.
  const storeB = b.keystone.store;
  const demoB = storeB.findUser({ name: 'demo', domainId: 'default' })!;
  const cred = storeB.createApplicationCredential({
    userId: demoB.id,
    projectId: b.demo.projectId,
    name: 'dr-bank',
  });
  const team = storeB.createProject({ name: 'dr-team' });
  drTeamId = team.id;
  const recoverer = storeB.createUser({
    name: 'recoverer',
    password: 'RECOVER_PASS',
    defaultProjectId: team.id,
  });
  storeB.grant(recoverer.id, storeB.ensureRole('member').id, { projectId: team.id });

  const confA = join(mkdtempSync(join(tmpdir(), 'dragon-a-')), 'dragon.conf');
  writeQuickstartConfig(confA, { keystone: a.keystone, sites: { [a.region]: a.site } }, join(confA, '..'));
  const confB = join(mkdtempSync(join(tmpdir(), 'dragon-b-')), 'dragon.conf');
  writeQuickstartConfig(confB, { keystone: b.keystone, sites: { [b.region]: b.site } }, join(confB, '..'));
  dragonA = await startFreshDragon({
    confPath: confA,
    token: await passwordToken(a.keystone.url, 'demo', 'DEMO_PASS', { name: 'demo' }),
  });
  dragonB = await startFreshDragon({
    confPath: confB,
    token: await passwordToken(b.keystone.url, 'recoverer', 'RECOVER_PASS', { name: 'dr-team' }),
  });

  primary = siteClientsFor(a, a.region, {
    user: 'demo',
    password: 'DEMO_PASS',
    project: 'demo',
    projectId: a.demo.projectId,
  });
  drSite = siteClientsFor(b, b.region, {
    user: 'recoverer',
    password: 'RECOVER_PASS',
    project: 'dr-team',
    projectId: team.id,
  });

  const registered = await dragonA.call('POST', '/v1/sites', {
    site: {
      name: 'dr',
      auth_url: `${b.keystone.url}/v3`,
      region_name: b.region,
      application_credential_id: cred.credential.id,
      application_credential_secret: cred.secret,
    },
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);

  const { nova, glance } = primary.clients;
  const [cirros] = (await glance.listImages({ status: 'active' })).filter((i) =>
    /cirros/i.test(i.name ?? ''),
  );
  const flavor = (await nova.findFlavor('m1.tiny'))?.id ?? '1';
  serverId = (
    await nova.createServer({ name: 'ledger', flavorRef: flavor, imageRef: cirros.id, networks: 'none' })
  ).id;
  await nova.waitForServer(serverId, 'ACTIVE', fast);
}, 120_000);

afterAll(async () => {
  await dragonA?.close();
  await dragonB?.close();
  await primary?.close();
  await drSite?.close();
  await clouds?.close();
});

describe('two clouds, separate Keystones', () => {
  it("protects into the other cloud's Swift with the DR team as bank reader", async () => {
    const created = await dragonA.call('POST', '/v1/policies', {
      policy: { name: 'ledger', backup_site: 'dr', bank_readers: [drTeamId] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const policyId = created.body.policy.id;
    const add = await dragonA.call('POST', `/v1/policies/${policyId}/resources`, {
      resource: { resource_id: serverId, resource_type: 'OS::Nova::Server', action: 'image-copy' },
    });
    expect(add.status, JSON.stringify(add.body)).toBe(201);
    const res = await dragonA.call('POST', `/v1/policies/${policyId}/protect`);
    const execution = await dragonA.waitExecution(res.body.execution_id);
    expect(execution.status, JSON.stringify(execution.error)).toBe('succeeded');
    container = (await dragonA.call('GET', `/v1/checkpoints/${res.body.checkpoint.id}`)).body.checkpoint
      .container;
  }, 240_000);

  it("the other cloud's Dragon recovers it with the DR team's own credentials, through the ACL", async () => {
    // The DR team's own bank holds nothing: the checkpoint is in the demo project's account.
    const own = await dragonB.call('GET', '/v1/checkpoints?source=bank&site=RegionTwo');
    expect(own.status).toBe(200);
    expect(own.body.checkpoints).toEqual([]);

    const res = await dragonB.call('POST', '/v1/recoveries', {
      recovery: {
        checkpoint: container,
        site: 'RegionTwo',
        bank_account: clouds.backup.demo.projectId,
        stack_name: 'ledger-dr',
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const recovery: Body = await dragonB.waitRecovery(res.body.recovery.id);
    expect(recovery.status, recovery.error).toBe('available');
    const server = await drSite.clients.nova.getServer(recovery.result.id_map[serverId]);
    expect(server.status).toBe('ACTIVE');
    expect(server.name).toBe('ledger');
    expect(server.tenant_id ?? drTeamId).toBe(drTeamId);
  }, 300_000);

  it('an account that grants the DR team nothing cannot be read', async () => {
    const res = await dragonB.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: container, site: 'RegionTwo', bank_account: clouds.primary.demo.projectId },
    });
    expect([403, 404, 502]).toContain(res.status);
    expect(res.body.error.message).toBeTruthy();
  }, 60_000);
});
