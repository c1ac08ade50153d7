/**
 * Dragon's authentication against the real Keystone of the mini cloud: JWS tokens (the
 * main Keystone on :5000) and fernet tokens (a second Keystone process on :5001 over the
 * same database), validation with Dragon's service user, the validation cache, revocation
 * (`openstack token revoke`), application credentials, and trusts used the way deferred
 * auth needs them. Run by `npm run test:realcloud` (never by `npm test`).
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenCache, tokenHash } from '../../services/api/auth/token-cache.js';
import { InvalidToken, TokenValidator } from '../../services/api/auth/validator.js';
import { getLogger } from '../../services/common/log.js';
import { CinderClient } from '../../services/common/openstack/cinder.js';
import { KeystoneSession, type SessionOptions } from '../../services/common/openstack/session.js';
import {
  createTrust,
  deleteTrust,
  serviceUserId,
  serviceUserSession,
  trustSession,
} from '../../services/common/openstack/trusts.js';
import { readRealClouds, sessionOptionsOf } from '../support/cloud-target.js';
import { JWS_PUBLIC_KEYS, type RealCloudInfo, realCloudInfo } from './realcloud-support.js';

const log = getLogger('realcloud-auth');
let info: RealCloudInfo;
let demoOpts: SessionOptions;
let demoFernetOpts: SessionOptions;
const sessions: KeystoneSession[] = [];
const open = (o: SessionOptions) => {
  const s = new KeystoneSession(o);
  sessions.push(s);
  return s;
};

/** A validator as dragon-api builds it: the service user's session against `keystoneUrl`. */
function validator(keystoneUrl: string, opts: { jws?: boolean; cache?: TokenCache } = {}) {
  const session = serviceUserSession({ ...info.serviceUser, authUrl: keystoneUrl });
  sessions.push(session);
  return new TokenValidator({
    session,
    cache: opts.cache ?? new TokenCache(300_000),
    jwsPublicKeyRepository: opts.jws ? JWS_PUBLIC_KEYS : undefined,
    interface: 'public',
  });
}

/** `openstack token revoke`: DELETE /v3/auth/tokens with the token as subject. */
async function revoke(keystoneUrl: string, token: string) {
  const res = await fetch(`${keystoneUrl}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
  });
  expect(res.status).toBe(204);
}

beforeAll(async () => {
  info = await realCloudInfo();
  const clouds = readRealClouds();
  demoOpts = sessionOptionsOf(clouds['real-demo']);
  demoFernetOpts = sessionOptionsOf(clouds['real-demo-fernet']);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close().catch(() => {})));
});

describe('JWS tokens of the real Keystone', () => {
  it('are ES256 compact JWS with the claims Dragon reads, and validate offline + online', async () => {
    const demo = open(demoOpts);
    const token = await demo.getToken();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'JWT' });
    const claims = decodeJwt(token);
    const access = await demo.authenticate();
    expect(claims.sub).toBe(access.userId);
    expect(claims.openstack_project_id).toBe(access.projectId);
    expect(claims.openstack_methods).toEqual(['password']);

    const v = validator(info.jwsUrl, { jws: true });
    const ok = await v.validate(token, log);
    expect(ok.access).toMatchObject({ userId: access.userId, projectId: access.projectId });
    expect(ok.access.roles).toEqual(expect.arrayContaining(['member', 'reader']));
  });

  it('refuses a JWS token with a forged signature offline, and a garbage token online', async () => {
    const token = await open(demoOpts).getToken();
    const [h, p, sig] = token.split('.');
    const flipped = `${h}.${p}.${sig.startsWith('A') ? `B${sig.slice(1)}` : `A${sig.slice(1)}`}`;
    const v = validator(info.jwsUrl, { jws: true });
    await expect(v.validate(flipped, log)).rejects.toThrow(InvalidToken);
    await expect(v.validate(`gAAAAA${randomBytes(40).toString('base64url')}`, log)).rejects.toThrow(
      InvalidToken,
    );
  });

  it('caches a validation, and a revoked token is refused once the cache no longer vouches for it', async () => {
    const demo = open(demoOpts);
    const token = await demo.getToken();
    const cache = new TokenCache(300_000);
    const v = validator(info.jwsUrl, { jws: true, cache });
    await v.validate(token, log);
    expect(cache.get(tokenHash(token))).toMatchObject({
      access: { userId: (await demo.authenticate()).userId },
    });

    await revoke(info.jwsUrl, token);
    // Documented trade-off ([keystone_authtoken] token_cache_time): the cache still vouches...
    await expect(v.validate(token, log)).resolves.toBeDefined();
    // ...and a validator without that entry asks Keystone, which refuses the revoked token.
    const fresh = validator(info.jwsUrl, { jws: true });
    await expect(fresh.validate(token, log)).rejects.toThrow(InvalidToken);
  });
});

describe('fernet tokens of the real Keystone', () => {
  it('validate online (the JWS key repository does not apply) and are refused once revoked', async () => {
    const demo = open(demoFernetOpts);
    const token = await demo.getToken();
    expect(token.startsWith('gAAAAA')).toBe(true);
    // Configured with the JWS keys too: a fernet token is "not JWS" and goes to Keystone.
    const v = validator(info.fernetUrl, { jws: true });
    const ok = await v.validate(token, log);
    expect(ok.access.projectId).toBe((await demo.authenticate()).projectId);
    await revoke(info.fernetUrl, token);
    await expect(validator(info.fernetUrl).validate(token, log)).rejects.toThrow(InvalidToken);
  });

  it('are validated by either Keystone: validation does not depend on the issuing provider', async () => {
    // Measured: a Keystone with provider = jws still validates fernet tokens (and the fernet
    // one JWS tokens) when both key repositories are present, as in this cloud.
    const fernet = await open(demoFernetOpts).getToken();
    const jws = await open(demoOpts).getToken();
    const a = await validator(info.jwsUrl).validate(fernet, log);
    const b = await validator(info.fernetUrl).validate(jws, log);
    expect(a.access.userId).toBe(b.access.userId);
  });
});

describe('application credentials', () => {
  it('authenticate a session scoped to the creator project; deleting the credential revokes its tokens', async () => {
    const demo = open(demoOpts);
    const access = await demo.authenticate();
    const name = `dragon-rc-${randomBytes(3).toString('hex')}`;
    const created = await demo.requestJson<{ application_credential: { id: string; secret: string } }>(
      'POST',
      `${info.jwsUrl}/users/${access.userId}/application_credentials`,
      { serviceName: 'identity', json: { application_credential: { name, roles: [{ name: 'member' }] } } },
    );
    const ac = created.application_credential;
    const acSession = open({
      authUrl: info.jwsUrl,
      auth: { type: 'application_credential', id: ac.id, secret: ac.secret },
      regionName: 'RegionOne',
      interface: 'public',
    });
    const acAccess = await acSession.authenticate();
    expect(acAccess).toMatchObject({ projectId: access.projectId, applicationCredentialId: ac.id });
    expect(acAccess.methods).toContain('application_credential');
    const token = await acSession.getToken();
    expect(decodeJwt(token).openstack_app_cred_id).toBe(ac.id);
    const ok = await validator(info.jwsUrl, { jws: true }).validate(token, log);
    expect(ok.access.applicationCredentialId).toBe(ac.id);
    // The credential works like the user for the services: list volumes through it.
    expect(Array.isArray(await new CinderClient(acSession).listVolumes())).toBe(true);

    const del = await demo.request(
      'DELETE',
      `${info.jwsUrl}/users/${access.userId}/application_credentials/${ac.id}`,
      {
        serviceName: 'identity',
      },
    );
    expect(del.status).toBe(204);
    await expect(validator(info.jwsUrl, { jws: true }).validate(token, log)).rejects.toThrow(InvalidToken);
  });
});

describe('trusts for deferred auth', () => {
  it('let Dragon act for the user after the user token is gone, until the trust is deleted', async () => {
    const demo = open(demoOpts);
    const access = await demo.authenticate();
    const userToken = await demo.getToken();
    const trustee = await serviceUserId(info.serviceUser);
    const trust = await createTrust({
      authUrl: info.serviceUser.authUrl,
      userToken,
      trustorUserId: access.userId,
      trusteeUserId: trustee,
      projectId: access.projectId as string,
      roles: access.roles.filter((r) => r === 'member' || r === 'reader'),
    });
    expect(trust).toMatchObject({
      trustor_user_id: access.userId,
      trustee_user_id: trustee,
      impersonation: true,
    });

    // The user's token goes away (logout/expiry): the trust does not depend on it.
    await revoke(info.jwsUrl, userToken);
    const acting = trustSession({
      serviceUser: info.serviceUser,
      trustId: trust.id,
      regionName: 'RegionOne',
      interface: 'public',
    });
    sessions.push(acting);
    const ta = await acting.authenticate();
    // Impersonation: the token is the trustor's, on the trust's project.
    expect(ta).toMatchObject({ userId: access.userId, projectId: access.projectId, trustId: trust.id });
    expect(ta.roles).toContain('member');
    const vol = await new CinderClient(acting).listVolumes();
    expect(Array.isArray(vol)).toBe(true);
    // Dragon's own API accepts the trust-scoped token (validation with the service user).
    const ok = await validator(info.jwsUrl, { jws: true }).validate(await acting.getToken(), log);
    expect(ok.access.trustId).toBe(trust.id);

    // The trustor (a new token of theirs) deletes the trust: Dragon can no longer act.
    const again = open(demoOpts);
    expect(
      await deleteTrust({
        authUrl: info.serviceUser.authUrl,
        token: await again.getToken(),
        trustId: trust.id,
      }),
    ).toBe(true);
    expect(
      await deleteTrust({
        authUrl: info.serviceUser.authUrl,
        token: await again.getToken(),
        trustId: trust.id,
      }),
    ).toBe(false);
    const after = trustSession({ serviceUser: info.serviceUser, trustId: trust.id });
    sessions.push(after);
    await expect(after.authenticate()).rejects.toThrow(/40[14]|auth|trust/i);
  });
});

describe("Dragon's API deployed in the mini cloud", () => {
  it('is found through the Keystone catalog and accepts a JWS token; refuses a revoked one with 401', async () => {
    const demo = open(demoOpts);
    const endpoint = await demo.endpointFor('disaster-recovery');
    expect(endpoint).toBe('http://127.0.0.1:8007/v1');
    const res = await demo.request('GET', `${endpoint}/policies`, { serviceName: 'disaster-recovery' });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('policies');

    const other = open(demoOpts);
    const token = await other.getToken();
    await revoke(info.jwsUrl, token);
    const refused = await fetch(`${endpoint}/policies`, { headers: { 'X-Auth-Token': token } });
    // Dragon caches validations (token_cache_time): this token was never validated by it.
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('127.0.0.1:5000');
  });
});
