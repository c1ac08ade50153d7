/** /v1/sites and /v1/protectables against the Keystone stand-in and the simulated two-region cloud. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CinderClient } from '../../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import { NeutronClient } from '../../../services/common/openstack/neutron.js';
import { NovaClient } from '../../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { siteClientsFor } from '../../../services/engine/sites.js';
import { type ProtectApi, startProtectApi } from '../../support/protect-api.js';

let t: ProtectApi;
let token: string;
let appCred: { id: string; secret: string };
const fast = { timeoutMs: 10_000, intervalMs: 50 };

beforeAll(async () => {
  // A site of RegionOne whose compute endpoint is overridden to RegionTwo's Nova.
  t = await startProtectApi({}, async (cloud) => {
    const s = new KeystoneSession({
      authUrl: `${cloud.keystone.url}/v3`,
      auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
      scope: { projectName: 'demo', projectDomainName: 'Default' },
    });
    const url = await s.endpointFor('compute', { region: 'RegionTwo' });
    await s.close();
    return `[site:Overridden]\nregion_name = RegionOne\ncompute_endpoint = ${url}\n`;
  });
  token = await t.token();
  const store = t.cloud.keystone.store;
  const demo = store.findUser({ name: 'demo', domainId: 'default' })!;
  const made = store.createApplicationCredential({
    userId: demo.id,
    projectId: t.cloud.demo.projectId,
    name: 'dragon-backup',
  });
  appCred = { id: made.credential.id, secret: made.secret };
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const site = (name: string, secret: string) => ({
  site: {
    name,
    auth_url: `${t.cloud.keystone.url}/v3`,
    region_name: 'RegionTwo',
    application_credential_id: appCred.id,
    application_credential_secret: secret,
  },
});

describe('sites', () => {
  it("lists the operator's configured sites", async () => {
    const r = await t.call(token, 'GET', '/v1/sites');
    expect(r.status).toBe(200);
    expect(r.body.sites).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'RegionOne', kind: 'operator', region_name: 'RegionOne' }),
        expect.objectContaining({ name: 'RegionTwo', kind: 'operator', region_name: 'RegionTwo' }),
      ]),
    );
  });

  it('refuses an application credential the other cloud refuses, and stores nothing', async () => {
    const r = await t.call(token, 'POST', '/v1/sites', site('bad-cred', 'not-the-secret'));
    expect(r.status).toBe(400);
    expect(r.text).toContain('application credential was refused by');
    expect(r.text).not.toContain('not-the-secret');
    expect(await t.db('sites').where({ name: 'bad-cred' }).first()).toBeUndefined();
  });

  it('registers a tenant site without ever showing or storing the secret in clear', async () => {
    const created = await t.call(token, 'POST', '/v1/sites', site('other-cloud', appCred.secret));
    expect(created.status).toBe(201);
    expect(created.body.site).toMatchObject({
      name: 'other-cloud',
      kind: 'tenant',
      application_credential_id: appCred.id,
    });
    const shown = await t.call(token, 'GET', '/v1/sites/other-cloud');
    const listed = await t.call(token, 'GET', '/v1/sites');
    expect(listed.body.sites.map((s: { name: string }) => s.name)).toContain('other-cloud');
    for (const r of [created, shown, listed]) expect(r.text).not.toContain(appCred.secret);
    const row = await t.db('sites').where({ name: 'other-cloud' }).first();
    expect(JSON.stringify(row)).not.toContain(appCred.secret);
    expect(row.application_credential_secret_enc).toMatch(/^v1:/);
    const dup = await t.call(token, 'POST', '/v1/sites', site('other-cloud', appCred.secret));
    expect(dup.status).toBe(409);
  });

  it('gives the engine working clients at a tenant site (decrypted application credential)', async () => {
    const conf = t.loadConf();
    const c = await siteClientsFor({
      conf,
      db: t.db,
      siteName: 'other-cloud',
      projectId: t.cloud.demo.projectId,
    });
    try {
      expect(c.region).toBe('RegionTwo');
      expect(c.projectId).toBe(t.cloud.demo.projectId);
      expect(Array.isArray(await c.cinder.listVolumes())).toBe(true);
      expect(await c.swift.accountUrl()).toContain(t.cloud.demo.projectId);
    } finally {
      await c.close();
    }
  });

  it('gives the engine trust-scoped clients at an operator site, and refuses without a trust', async () => {
    const created = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'engine-clients' } });
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();
    const conf = t.loadConf();
    const c = await siteClientsFor({
      conf,
      db: t.db,
      siteName: 'RegionTwo',
      projectId: t.cloud.demo.projectId,
      trustId: row.trust_id,
    });
    try {
      expect(Array.isArray(await c.nova.listServers())).toBe(true);
      expect(await c.swift.accountUrl()).toContain(
        t.cloud.sites.RegionTwo.endpoints['object-store'].split('/v1')[0],
      );
    } finally {
      await c.close();
    }
    await expect(
      siteClientsFor({ conf, db: t.db, siteName: 'RegionOne', projectId: t.cloud.demo.projectId }),
    ).rejects.toThrow(/no trust/);
  });

  it('uses the endpoint overrides of an operator site', async () => {
    const created = await t.call(token, 'POST', '/v1/policies', { policy: { name: 'overrides' } });
    const row = await t.db('policies').where({ id: created.body.policy.id }).first();
    const conf = t.loadConf();
    const open = (siteName: string) =>
      siteClientsFor({ conf, db: t.db, siteName, projectId: t.cloud.demo.projectId, trustId: row.trust_id });
    const two = await open('RegionTwo');
    const over = await open('Overridden');
    try {
      const image = (await two.glance.listImages()).find((i) => i.name?.includes('cirros'))!;
      const made = await two.nova.createServer({
        name: 'only-in-two',
        flavorRef: (await two.nova.listFlavors())[0].id,
        imageRef: image.id,
        networks: 'none',
      });
      // Nova answers from RegionTwo although the site's region is RegionOne; Cinder stays in RegionOne.
      expect((await over.nova.listServers()).map((s) => s.id)).toContain(made.id);
      expect(over.region).toBe('RegionOne');
    } finally {
      await two.close();
      await over.close();
    }
  });

  it('never logs an application credential secret or a token', () => {
    const all = t.logs.join('');
    expect(all).toContain('tenant site registered');
    expect(all).not.toContain(appCred.secret);
    expect(all).not.toContain('not-the-secret');
    expect(all).not.toContain(token);
  });

  it('deletes a tenant site but not a site of the cloud', async () => {
    expect((await t.call(token, 'DELETE', '/v1/sites/RegionOne')).status).toBe(403);
    expect((await t.call(token, 'DELETE', '/v1/sites/other-cloud')).status).toBe(204);
    expect((await t.call(token, 'GET', '/v1/sites/other-cloud')).status).toBe(404);
  });
});

describe('protectables', () => {
  it("lists the caller's servers and volumes at a site, a server with its attached volume, port, network and groups", async () => {
    const s = new KeystoneSession({
      authUrl: `${t.cloud.keystone.url}/v3`,
      auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
      scope: { projectName: 'demo', projectDomainName: 'Default' },
      regionName: 'RegionOne',
      interface: 'public',
    });
    try {
      const nova = new NovaClient(s);
      const cinder = new CinderClient(s);
      const neutron = new NeutronClient(s);
      const net = await neutron.createNetwork({ name: 'app-net' });
      await neutron.createSubnet({ network_id: net.id, cidr: '10.9.0.0/24', ip_version: 4 });
      const image = (await new GlanceClient(s).listImages()).find((i) => i.name?.includes('cirros'))!;
      const flavor = (await nova.listFlavors())[0];
      const created = await nova.createServer({
        name: 'app-1',
        flavorRef: flavor.id,
        imageRef: image.id,
        networks: [{ uuid: net.id }],
      });
      await nova.waitForServer(created.id, 'ACTIVE', fast);
      const vol = await cinder.createVolume({ name: 'app-data', size: 1 });
      await cinder.waitForVolume(vol.id, ['available'], fast);
      await nova.attachVolume(created.id, vol.id);
      await cinder.waitForVolume(vol.id, ['in-use'], fast);

      const r = await t.call(token, 'GET', '/v1/protectables?site=RegionOne');
      expect(r.status).toBe(200);
      const server = r.body.protectables.find((p: { id: string }) => p.id === created.id);
      expect(server).toMatchObject({ name: 'app-1', type: 'OS::Nova::Server', status: 'ACTIVE' });
      const deps = server.dependencies as { id: string; type: string; name: string }[];
      expect(deps).toContainEqual({ id: vol.id, type: 'OS::Cinder::Volume', name: 'app-data' });
      expect(deps).toContainEqual({ id: net.id, type: 'OS::Neutron::Net', name: 'app-net' });
      expect(deps.some((d) => d.type === 'OS::Neutron::Port')).toBe(true);
      expect(deps.some((d) => d.type === 'OS::Neutron::SecurityGroup' && d.name === 'default')).toBe(true);
      expect(r.body.protectables).toContainEqual(
        expect.objectContaining({ id: vol.id, type: 'OS::Cinder::Volume', status: 'in-use' }),
      );

      const onlyVolumes = await t.call(
        token,
        'GET',
        '/v1/protectables?site=RegionOne&type=OS::Cinder::Volume',
      );
      expect(
        onlyVolumes.body.protectables.every((p: { type: string }) => p.type === 'OS::Cinder::Volume'),
      ).toBe(true);
      // The other region holds none of it.
      const two = await t.call(token, 'GET', '/v1/protectables?site=RegionTwo');
      expect(two.body.protectables.map((p: { id: string }) => p.id)).not.toContain(created.id);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('answers 404 for an unknown site and 400 for an unknown type', async () => {
    expect((await t.call(token, 'GET', '/v1/protectables?site=Nowhere')).status).toBe(404);
    expect((await t.call(token, 'GET', '/v1/protectables?site=RegionOne&type=OS::Heat::Stack')).status).toBe(
      400,
    );
  });
});
