import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKeystone, startKeystone } from '../../../services/cloudsim/keystone.js';
import { addTenantUser, issueToken, json } from './helpers.js';

let ks: RunningKeystone;
let admin: string;

beforeAll(async () => {
  ks = await startKeystone({ port: 0 });
  addTenantUser(ks, 'demo', 'DEMO_PASS');
  admin = await issueToken(ks, 'admin', 'ADMIN_PASS', {
    project: { name: 'admin', domain: { name: 'Default' } },
  });
});

afterAll(async () => {
  await ks.close();
});

const call = (
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(`${ks.url}${path}`, {
    method,
    headers: { 'X-Auth-Token': token, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });

const passwordAuth = (name: string, password: string, scope?: unknown) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password } } },
    ...(scope ? { scope } : {}),
  },
});

const post = (body: unknown) =>
  fetch(`${ks.url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('simulated Keystone', () => {
  it('keeps its JWS key pair in the key repository layout of keystone-manage', () => {
    const priv = join(ks.keyDir, 'private', 'private.pem');
    const pub = join(ks.keyDir, 'public', 'public.pem');
    expect(existsSync(priv) && existsSync(pub)).toBe(true);
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('issues ES256 JWS tokens with the claims real Keystone writes and no kid', async () => {
    const res = await post(
      passwordAuth('demo', 'DEMO_PASS', { project: { name: 'demo', domain: { id: 'default' } } }),
    );
    expect(res.status).toBe(201);
    const token = res.headers.get('x-subject-token')!;
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(
      ['exp', 'iat', 'openstack_audit_ids', 'openstack_methods', 'openstack_project_id', 'sub'].sort(),
    );
    expect(claims.exp! - claims.iat!).toBe(3600);
    const body = await json(res);
    expect(body.token.user.name).toBe('demo');
    expect(body.token.project.name).toBe('demo');
    expect(body.token.methods).toEqual(['password']);
    expect(body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual(['member', 'reader']);
    expect(body.token.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    expect(body.token.catalog.find((s: { type: string }) => s.type === 'identity').endpoints).toHaveLength(3);
  });

  it('answers a wrong password with Keystone’s 401 body', async () => {
    const res = await post(passwordAuth('demo', 'wrong'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Keystone uri="${ks.url}/v3"`);
    expect(await json(res)).toEqual({
      error: {
        code: 401,
        title: 'Unauthorized',
        message: 'The request you have made requires authentication.',
      },
    });
  });

  it('scopes by domain, system, or to the default project when no scope is given', async () => {
    const system = await json(await post(passwordAuth('admin', 'ADMIN_PASS', { system: { all: true } })));
    expect(system.token.system).toEqual({ all: true });
    const unscopedDefault = await json(await post(passwordAuth('demo', 'DEMO_PASS')));
    expect(unscopedDefault.token.project.name).toBe('demo');
    const unscoped = await json(await post(passwordAuth('demo', 'DEMO_PASS', 'unscoped')));
    expect(unscoped.token.project).toBeUndefined();
    expect(unscoped.token.roles).toBeUndefined();
    const dom = ks.store.createDomain('tenants');
    const dadmin = ks.store.createUser({ name: 'dadmin', password: 'DADMIN_PASS', domainId: dom.id });
    ks.store.grant(dadmin.id, ks.store.findRole('admin')!.id, { domainId: dom.id });
    const domainScoped = await post({
      auth: {
        identity: { methods: ['password'], password: { user: { id: dadmin.id, password: 'DADMIN_PASS' } } },
        scope: { domain: { name: 'tenants' } },
      },
    });
    expect(domainScoped.status).toBe(201);
    expect((await json(domainScoped)).token.domain).toEqual({ id: dom.id, name: 'tenants' });
    expect(decodeJwt(domainScoped.headers.get('x-subject-token')!).openstack_domain_id).toBe(dom.id);
    // A project the user has no role on is refused.
    expect((await post(passwordAuth('demo', 'DEMO_PASS', { project: { name: 'admin' } }))).status).toBe(401);
  });

  it('validates with GET and HEAD for service/admin callers and counts validations', async () => {
    const demo = await issueToken(ks, 'demo', 'DEMO_PASS');
    const before = ks.store.stats.validations;
    const get = await call('GET', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': demo });
    expect(get.status).toBe(200);
    expect((await json(get)).token.user.name).toBe('demo');
    const head = await call('HEAD', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': demo });
    expect(head.status).toBe(200);
    expect(ks.store.stats.validations).toBe(before + 2);
    const bogus = await call('GET', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': `${demo}x` });
    expect(bogus.status).toBe(404);
    // Another tenant user may not validate someone else's token.
    addTenantUser(ks, 'eve', 'EVE_PASS');
    const eve = await issueToken(ks, 'eve', 'EVE_PASS');
    expect((await call('GET', '/v3/auth/tokens', eve, undefined, { 'X-Subject-Token': demo })).status).toBe(
      403,
    );
  });

  it('revokes a token and the tokens made from it', async () => {
    const demo = await issueToken(ks, 'demo', 'DEMO_PASS');
    const child = await post({ auth: { identity: { methods: ['token'], token: { id: demo } } } });
    expect(child.status).toBe(201);
    const childToken = child.headers.get('x-subject-token')!;
    expect((await json(child)).token.methods).toEqual(['token', 'password']);
    expect(
      (await call('DELETE', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': demo })).status,
    ).toBe(204);
    for (const t of [demo, childToken])
      expect((await call('GET', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': t })).status).toBe(
        404,
      );
  });

  it('lists implied roles: admin implies member implies reader', async () => {
    const body = await json(
      await call('GET', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': admin }),
    );
    expect(body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual([
      'admin',
      'member',
      'reader',
    ]);
    expect(body.token.is_admin_project).toBe(true);
  });

  it('creates projects, users and grants through the API', async () => {
    const project = await json(
      await call('POST', '/v3/projects', admin, { project: { name: 'p1', domain_id: 'default' } }),
    );
    const user = await json(
      await call('POST', '/v3/users', admin, { user: { name: 'u1', password: 'U1_PASS' } }),
    );
    const reader = await json(await call('GET', '/v3/roles?name=reader', admin));
    const put = await call(
      'PUT',
      `/v3/projects/${project.project.id}/users/${user.user.id}/roles/${reader.roles[0].id}`,
      admin,
    );
    expect(put.status).toBe(204);
    const token = await json(
      await post(passwordAuth('u1', 'U1_PASS', { project: { id: project.project.id } })),
    );
    expect(token.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    // Non-admins cannot create projects.
    const u1 = await issueToken(ks, 'u1', 'U1_PASS', { project: { id: project.project.id } });
    expect((await call('POST', '/v3/projects', u1, { project: { name: 'p2' } })).status).toBe(403);
  });

  it('returns an application credential secret once and authenticates with it', async () => {
    const demo = await issueToken(ks, 'demo', 'DEMO_PASS');
    const userId = ks.store.findUser({ name: 'demo' })!.id;
    const created = await call('POST', `/v3/users/${userId}/application_credentials`, demo, {
      application_credential: { name: 'dr-site' },
    });
    expect(created.status).toBe(201);
    const cred = (await json(created)).application_credential;
    expect(cred.secret).toBeTruthy();
    const shown = await json(
      await call('GET', `/v3/users/${userId}/application_credentials/${cred.id}`, demo),
    );
    expect(shown.application_credential.secret).toBeUndefined();

    const byId = await post({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: cred.id, secret: cred.secret },
        },
      },
    });
    expect(byId.status).toBe(201);
    const body = (await json(byId)).token;
    expect(body.application_credential.id).toBe(cred.id);
    expect(body.project.name).toBe('demo');
    expect(decodeJwt(byId.headers.get('x-subject-token')!).openstack_app_cred_id).toBe(cred.id);

    const byName = await post({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: {
            name: 'dr-site',
            secret: cred.secret,
            user: { name: 'demo', domain: { name: 'Default' } },
          },
        },
      },
    });
    expect(byName.status).toBe(201);
    const wrong = await post({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: cred.id, secret: 'nope' },
        },
      },
    });
    expect(wrong.status).toBe(401);
  });

  it('lets a trustee act through a trust until the trust is deleted', async () => {
    const demo = await issueToken(ks, 'demo', 'DEMO_PASS');
    const demoId = ks.store.findUser({ name: 'demo' })!.id;
    const created = await call('POST', '/v3/OS-TRUST/trusts', demo, {
      trust: {
        trustor_user_id: demoId,
        trustee_user_id: ks.seed!.dragonUserId,
        project_id: ks.store.findProject({ name: 'demo' })!.id,
        impersonation: true,
        roles: [{ name: 'member' }],
      },
    });
    expect(created.status).toBe(201);
    const trust = (await json(created)).trust;
    const res = await post(passwordAuth('dragon', 'DRAGON_PASS', { 'OS-TRUST:trust': { id: trust.id } }));
    expect(res.status).toBe(201);
    const token = res.headers.get('x-subject-token')!;
    const body = (await json(res)).token;
    expect(body['OS-TRUST:trust'].id).toBe(trust.id);
    expect(body.user.id).toBe(demoId); // impersonation
    expect(body.roles.map((r: { name: string }) => r.name).sort()).toEqual(['member', 'reader']);

    expect((await call('DELETE', `/v3/OS-TRUST/trusts/${trust.id}`, demo)).status).toBe(204);
    expect(
      (await call('GET', '/v3/auth/tokens', admin, undefined, { 'X-Subject-Token': token })).status,
    ).toBe(404);
  });

  it('serves version documents and the catalog', async () => {
    const root = await fetch(`${ks.url}/`);
    expect(root.status).toBe(300);
    expect((await json(root)).versions.values[0].id).toMatch(/^v3\./);
    expect((await json(await fetch(`${ks.url}/v3`))).version.status).toBe('stable');
    const cat = await json(await call('GET', '/v3/auth/catalog', admin));
    expect(cat.catalog.map((s: { type: string }) => s.type)).toContain('identity');
  });

  it('can be taken down: connections reset or 503', async () => {
    try {
      ks.setDown(true);
      await expect(fetch(`${ks.url}/v3`)).rejects.toThrow();
      ks.setDown('503');
      expect((await fetch(`${ks.url}/v3`)).status).toBe(503);
    } finally {
      ks.setDown(false);
    }
    expect((await fetch(`${ks.url}/v3`)).status).toBe(200);
  });
});
