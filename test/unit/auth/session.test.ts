import { Readable } from 'node:stream';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKeystone, startKeystone } from '../../../services/cloudsim/keystone.js';
import { type Listening, listen } from '../../../services/cloudsim/server.js';
import {
  AuthenticationError,
  EndpointNotFound,
  OpenStackConnectionError,
  OpenStackHttpError,
} from '../../../services/common/openstack/errors.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

let ks: RunningKeystone;

beforeAll(async () => {
  ks = await startKeystone({ port: 0, tokenExpiration: 3600 });
  // Two regions of one cloud, like the two-site simulator.
  const s = ks.store;
  const nova = s.createService({ type: 'compute', name: 'nova' });
  for (const [region, host] of [
    ['RegionOne', 'nova-one'],
    ['RegionTwo', 'nova-two'],
  ]) {
    s.createEndpoint({
      serviceId: nova.id,
      interface: 'public',
      regionId: region,
      url: `http://${host}/v2.1`,
    });
    s.createEndpoint({
      serviceId: nova.id,
      interface: 'internal',
      regionId: region,
      url: `http://${host}-int/v2.1`,
    });
  }
  const cinder = s.createService({ type: 'block-storage', name: 'cinder' });
  s.createEndpoint({
    serviceId: cinder.id,
    interface: 'public',
    regionId: 'RegionTwo',
    url: 'http://cinder-two/v3/%(project_id)s',
  });
});

afterAll(async () => {
  await ks.close();
});

const dragon = (extra: Partial<ConstructorParameters<typeof KeystoneSession>[0]> = {}) =>
  new KeystoneSession({
    authUrl: `${ks.url}/v3`,
    auth: { type: 'password', username: 'dragon', password: 'DRAGON_PASS', userDomainName: 'Default' },
    scope: { projectName: 'service', projectDomainName: 'Default' },
    retryDelayMs: 10,
    ...extra,
  });

describe('KeystoneSession', () => {
  it('authenticates with a password and reads the scope and implied roles', async () => {
    const session = dragon();
    const access = await session.authenticate();
    expect(access.projectName).toBe('service');
    expect(access.roles.sort()).toEqual(['admin', 'member', 'reader', 'service']);
    expect(access.expiresAt.getTime()).toBeGreaterThan(Date.now());
    await session.close();
  });

  it('selects endpoints by service type, region and interface', async () => {
    const session = dragon();
    expect(await session.endpointFor('compute', { region: 'RegionTwo', interface: 'internal' })).toBe(
      'http://nova-two-int/v2.1',
    );
    expect(await session.endpointFor('compute', { region: 'RegionOne' })).toBe('http://nova-one/v2.1');
    // Two regions and no region given: ambiguous, refused rather than guessed.
    await expect(session.endpointFor('compute')).rejects.toBeInstanceOf(EndpointNotFound);
    // The project id is substituted into the catalog URL.
    const access = await session.authenticate();
    expect(await session.endpointFor('volumev3', { region: 'RegionTwo' })).toBe(
      `http://cinder-two/v3/${access.projectId}`,
    );
    await expect(session.endpointFor('compute', { region: 'Nowhere' })).rejects.toBeInstanceOf(
      EndpointNotFound,
    );
    await session.close();
  });

  it('refuses a wrong password without echoing it', async () => {
    const session = dragon({
      auth: { type: 'password', username: 'dragon', password: 'not-the-password-42' },
    });
    const err = await session.authenticate().catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain('not-the-password-42');
    await session.close();
  });

  it('errors of calls carry status, service message and request id but never the token', async () => {
    const session = dragon();
    const token = await session.getToken();
    const err = await session
      .request('GET', `${ks.url}/v3/auth/tokens`, {
        // A tampered JWS token: Keystone echoes it in "Could not find token: ...".
        headers: { 'X-Subject-Token': `${token}x` },
        serviceName: 'identity',
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect(err.status).toBe(404);
    expect(err.service).toBe('identity');
    expect(err.osMessage).toMatch(/Could not find token/);
    const everything = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(40, 80));
    expect(everything).not.toContain('DRAGON_PASS');
    await session.close();
  });
});

describe('KeystoneSession token lifetime', () => {
  it('shares one authentication between concurrent callers', async () => {
    const session = dragon();
    const issued = ks.store.stats.issued;
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => session.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(ks.store.stats.issued).toBe(issued + 1);
    await session.close();
  });

  it('authenticates with an existing token and keeps its expiry', async () => {
    const parent = dragon();
    const parentAccess = await parent.authenticate();
    const child = new KeystoneSession({
      authUrl: ks.url,
      auth: { type: 'token', token: await parent.getToken() },
      scope: { projectName: 'service' },
    });
    const access = await child.authenticate();
    expect(access.methods).toEqual(['token', 'password']);
    expect(access.expiresAt.getTime()).toBe(parentAccess.expiresAt.getTime());
    await child.close();
    await parent.close();
  });

  it('re-authenticates shortly before the token expires', async () => {
    const shortKs = await startKeystone({ tokenExpiration: 2 });
    const session = new KeystoneSession({
      authUrl: shortKs.url,
      auth: { type: 'password', username: 'dragon', password: 'DRAGON_PASS' },
      scope: { projectName: 'service' },
    });
    try {
      const first = await session.getToken();
      expect(await session.getToken()).toBe(first);
      const issued = shortKs.store.stats.issued;
      // Margin is capped at half the lifetime: after ~1 s a new token is fetched, before the old one dies.
      await new Promise((r) => setTimeout(r, 1100));
      const second = await session.getToken();
      expect(second).not.toBe(first);
      expect(shortKs.store.stats.issued).toBe(issued + 1);
    } finally {
      await session.close();
      await shortKs.close();
    }
  });

  it('re-authenticates once when a call answers 401 (revoked token)', async () => {
    const session = dragon();
    const first = await session.getToken();
    const admin = new KeystoneSession({
      authUrl: ks.url,
      auth: { type: 'password', username: 'admin', password: 'ADMIN_PASS' },
      scope: { projectName: 'admin' },
    });
    await admin.request('DELETE', `${ks.url}/v3/auth/tokens`, { headers: { 'X-Subject-Token': first } });
    const res = await session.requestJson<{ catalog: unknown[] }>('GET', {
      service: 'identity',
      path: 'auth/catalog',
    });
    expect(res.catalog.length).toBeGreaterThan(0);
    expect(await session.getToken()).not.toBe(first);
    await session.close();
    await admin.close();
  });

  it('authenticates with an application credential and with a trust', async () => {
    const project = ks.store.createProject({ name: 'tenant-a' });
    const user = ks.store.createUser({ name: 'alice', password: 'ALICE_PASS' });
    ks.store.grant(user.id, ks.store.findRole('member')!.id, { projectId: project.id });
    const { credential, secret } = ks.store.createApplicationCredential({
      userId: user.id,
      projectId: project.id,
      name: 'backup-site',
    });
    const viaAppCred = new KeystoneSession({
      authUrl: ks.url,
      auth: { type: 'application_credential', id: credential.id, secret },
    });
    const a = await viaAppCred.authenticate();
    expect(a.applicationCredentialId).toBe(credential.id);
    expect(a.projectId).toBe(project.id);
    await viaAppCred.close();

    const trust = ks.store.createTrust({
      trustorUserId: user.id,
      trusteeUserId: ks.seed!.dragonUserId,
      projectId: project.id,
      roleIds: [ks.store.findRole('member')!.id],
      impersonation: true,
    });
    const viaTrust = new KeystoneSession({
      authUrl: ks.url,
      auth: { type: 'password', username: 'dragon', password: 'DRAGON_PASS' },
      scope: { trustId: trust.id },
    });
    const t = await viaTrust.authenticate();
    expect(t.trustId).toBe(trust.id);
    expect(t.userId).toBe(user.id);
    expect(t.roles.sort()).toEqual(['member', 'reader']);
    await viaTrust.close();
  });
});

describe('KeystoneSession HTTP behaviour', () => {
  let svc: Listening;
  const seen: Array<{
    method: string;
    headers: Record<string, string | string[] | undefined>;
    bytes: number;
  }> = [];
  let failures = 0;
  let drops = 0;

  beforeAll(async () => {
    const app = express();
    app.all('/flaky', (req, res) => {
      seen.push({ method: req.method, headers: req.headers, bytes: 0 });
      if (failures > 0) {
        failures--;
        res.status(503).json({ error: { message: 'try later' } });
        return;
      }
      res.json({ ok: true });
    });
    app.all('/drop', (req, res) => {
      if (drops > 0) {
        drops--;
        req.socket.destroy();
        return;
      }
      res.json({ ok: true });
    });
    app.get('/slow-body', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first half ');
      setTimeout(() => res.end('second half'), 300);
    });
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.json({ ok: true }), 500);
    });
    app.get('/nova-error', (_req, res) => {
      res
        .status(404)
        .set('x-compute-request-id', 'req-11111111-2222-3333-4444-555555555555')
        .json({
          itemNotFound: { code: 404, message: 'Instance abc could not be found.' },
        });
    });
    app.get('/neutron-error', (_req, res) => {
      res.status(409).json({ NeutronError: { type: 'InUse', message: 'Port is in use.', detail: '' } });
    });
    app.put('/upload', async (req, res) => {
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      seen.push({ method: req.method, headers: req.headers, bytes });
      res.status(201).json({ bytes });
    });
    svc = await listen(app);
  });
  afterAll(async () => {
    await svc.close();
  });

  it('sends the token and the global request id, keeping connections alive unless told not to', async () => {
    const session = dragon({ globalRequestId: 'req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' });
    await session.request('GET', `${svc.url}/flaky`);
    const h = seen.at(-1)!.headers;
    expect(h['x-auth-token']).toBe(await session.getToken());
    expect(h['x-openstack-request-id']).toBe('req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    expect(h.connection).toBe('keep-alive');
    await session.close();
    const closing = dragon({ keepAlive: false });
    await closing.request('GET', `${svc.url}/flaky`);
    expect(seen.at(-1)!.headers.connection).toBe('close');
    await closing.close();
  });

  it('retries idempotent calls on 503 but not POST', async () => {
    const session = dragon();
    failures = 2;
    const before = seen.length;
    expect((await session.request('GET', `${svc.url}/flaky`)).status).toBe(200);
    expect(seen.length - before).toBe(3);

    failures = 1;
    const err = await session.request('POST', `${svc.url}/flaky`, { json: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect(err.status).toBe(503);
    expect(err.osMessage).toBe('try later');
    await session.close();
  });

  it('gives up after the timeout with a connection error', async () => {
    const session = dragon({ retries: 0 });
    const err = await session.request('GET', `${svc.url}/slow`, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackConnectionError);
    expect(err.timedOut).toBe(true);
    await session.close();
  });

  it('does not cut off a body that arrives after the header timeout', async () => {
    const session = dragon({ retries: 0 });
    const res = await session.request('GET', `${svc.url}/slow-body`, { timeoutMs: 100 });
    expect(await res.text()).toBe('first half second half');
    await session.close();
  });

  it('parses Nova and Neutron error bodies and the callee request id', async () => {
    const session = dragon();
    const nova = await session
      .request('GET', `${svc.url}/nova-error`, { serviceName: 'compute' })
      .catch((e) => e);
    expect(nova.osMessage).toBe('Instance abc could not be found.');
    expect(nova.requestId).toBe('req-11111111-2222-3333-4444-555555555555');
    expect(nova.message).toContain('compute GET');
    const neutron = await session.request('GET', `${svc.url}/neutron-error`).catch((e) => e);
    expect(neutron.status).toBe(409);
    expect(neutron.osMessage).toBe('Port is in use.');
    await session.close();
  });

  it('streams a request body', async () => {
    const session = dragon();
    const chunks = Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 7));
    const res = await session.requestJson<{ bytes: number }>('PUT', `${svc.url}/upload`, {
      body: Readable.from(chunks),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    expect(res.bytes).toBe(16 * 64 * 1024);
    await session.close();
  });

  it('retries a dropped connection for GET, but not for POST', async () => {
    const session = dragon({ retries: 2 });
    drops = 2;
    expect((await session.request('GET', `${svc.url}/drop`)).status).toBe(200);
    expect(drops).toBe(0);
    drops = 1;
    const err = await session.request('POST', `${svc.url}/drop`, { json: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackConnectionError);
    expect(drops).toBe(0);
    await session.close();
  });
});
