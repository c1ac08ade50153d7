/** A policy carries a Keystone trust from its creator to Dragon's service user (Heat's deferred auth). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NovaClient } from '../../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { trustSession } from '../../../services/common/openstack/trusts.js';
import { type ProtectApi, startProtectApi } from '../../support/protect-api.js';

let t: ProtectApi;
beforeAll(async () => {
  t = await startProtectApi();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const serviceUser = () => ({
  authUrl: `${t.cloud.keystone.url}/v3`,
  username: 'dragon',
  password: 'DRAGON_PASS',
  userDomainName: 'Default',
  projectName: 'service',
  projectDomainName: 'Default',
});

describe('trusts of policies', () => {
  it('creates a trust from the caller to the service user with the policy, and deletes it with the policy', async () => {
    const token = await t.token();
    const created = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'with-trust' } });
    expect(created.status).toBe(201);
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();
    expect(row.trust_id).toBeTruthy();
    const store = t.cloud.keystone.store;
    const trust = store.trusts.get(row.trust_id)!;
    expect(trust).toBeDefined();
    const demo = store.findUser({ name: 'demo', domainId: 'default' })!;
    const dragon = store.findUser({ name: 'dragon', domainId: 'default' })!;
    expect(trust.trustorUserId).toBe(demo.id);
    expect(trust.trusteeUserId).toBe(dragon.id);
    expect(trust.projectId).toBe(t.cloud.demo.projectId);
    expect(trust.impersonation).toBe(true);
    expect(trust.roleIds).toContain(store.findRole('member')!.id);
    // The user's token is not kept anywhere in the row.
    expect(JSON.stringify(row)).not.toContain(token);

    const deleted = await t.call(token, 'DELETE', `/v1/policies/${created.body.policy.id}`);
    expect(deleted.status).toBe(204);
    expect(store.trusts.has(row.trust_id)).toBe(false);
  });

  it('deletes the policy even when its trust is already gone', async () => {
    const token = await t.token();
    const created = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'trust-gone' } });
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();
    t.cloud.keystone.store.trusts.delete(row.trust_id);
    const deleted = await t.call(token, 'DELETE', `/v1/policies/${created.body.policy.id}`);
    expect(deleted.status).toBe(204);
  });

  it('deletes the trust when another member of the project deletes the policy', async () => {
    const store = t.cloud.keystone.store;
    const colleague = store.createUser({ name: 'colleague', password: 'COLLEAGUE_PASS' });
    store.grant(colleague.id, store.findRole('member')!.id, { projectId: t.cloud.demo.projectId });
    const created = await t.call(await t.token(), 'POST', '/v1/policies', { policy: { name: 'shared' } });
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();
    const other = await t.token('colleague', 'COLLEAGUE_PASS');
    expect((await t.call(other, 'DELETE', `/v1/policies/${row.id}`)).status).toBe(204);
    expect(store.trusts.has(row.trust_id)).toBe(false);
  });

  it('makes no trust for a duplicate policy name', async () => {
    const token = await t.token();
    await t.call(token, 'POST', '/v1/policies', { policy: { name: 'twice' } });
    const before = t.cloud.keystone.store.trusts.size;
    const again = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'twice' } });
    expect(again.status).toBe(409);
    expect(t.cloud.keystone.store.trusts.size).toBe(before);
  });

  it("lets the service user act as the user under the trust: the user's servers at RegionOne", async () => {
    const token = await t.token();
    const user = new KeystoneSession({
      authUrl: `${t.cloud.keystone.url}/v3`,
      auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
      scope: { projectName: 'demo', projectDomainName: 'Default' },
      regionName: 'RegionOne',
      interface: 'public',
    });
    const nova = new NovaClient(user);
    const flavor = (await nova.listFlavors())[0];
    const image = (
      await user.requestJson<{ images: { id: string; name: string }[] }>('GET', {
        service: 'image',
        path: 'v2/images',
      })
    ).images.find((i) => i.name.includes('cirros'))!;
    const server = await nova.createServer({
      name: 'trusted-vm',
      flavorRef: flavor.id,
      imageRef: image.id,
      networks: 'none',
    });
    const created = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'acting' } });
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();

    const s = trustSession({
      serviceUser: serviceUser(),
      trustId: row.trust_id,
      regionName: 'RegionOne',
      interface: 'public',
    });
    try {
      const access = await s.authenticate();
      expect(access.trustId).toBe(row.trust_id);
      expect(access.projectId).toBe(t.cloud.demo.projectId);
      const servers = await new NovaClient(s, { region: 'RegionOne' }).listServers();
      expect(servers.map((x) => x.id)).toContain(server.id);
    } finally {
      await s.close();
      await user.close();
    }
  });
});
