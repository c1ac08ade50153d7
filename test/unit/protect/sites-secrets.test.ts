/** Site secrets at rest, and policies without Keystone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, siteSecretKey } from '../../../services/common/sites/secrets.js';
import { startTestApi, type TestApi } from '../../support/api-harness.js';

describe('site secret encryption', () => {
  const key = siteSecretKey(Buffer.alloc(32, 1).toString('base64'));

  it('round-trips, never stores the clear text, and differs each time', () => {
    const a = encryptSecret(key, 'app-cred-secret');
    const b = encryptSecret(key, 'app-cred-secret');
    expect(a).not.toContain('app-cred-secret');
    expect(a).not.toBe(b);
    expect(decryptSecret(key, a)).toBe('app-cred-secret');
  });

  it('refuses another key or a changed ciphertext', () => {
    const stored = encryptSecret(key, 'app-cred-secret');
    const other = siteSecretKey(Buffer.alloc(32, 2).toString('base64'));
    expect(() => decryptSecret(other, stored)).toThrow();
    const parts = stored.split(':');
    parts[3] = Buffer.from('tampered!!').toString('base64');
    expect(() => decryptSecret(key, parts.join(':'))).toThrow();
  });

  it('explains a missing or malformed key', () => {
    expect(() => siteSecretKey('')).toThrow(/secret_key is not configured/);
    expect(() => siteSecretKey('c2hvcnQ=')).toThrow(/32 bytes/);
  });
});

describe('policies under noauth', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ DRAGON_DEFAULT__AUTH_STRATEGY: 'noauth' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('creates and deletes a policy without a trust, and says so in the log', async () => {
    const created = await api.request('POST', '/v1/policies', {
      token: 'alice:p1:member',
      body: { policy: { name: 'no-keystone' } },
    });
    expect(created.status).toBe(201);
    const row = await api.db('policies').where({ id: created.body.policy.id }).first();
    expect(row.trust_id).toBeNull();
    expect(api.logs.some((l) => String(l.msg).includes('policy without a trust'))).toBe(true);
    const deleted = await api.request('DELETE', `/v1/policies/${created.body.policy.id}`, {
      token: 'alice:p1:member',
    });
    expect(deleted.status).toBe(204);
  });

  it('refuses tenant site registration without a secret_key', async () => {
    const r = await api.request('POST', '/v1/sites', {
      token: 'alice:p1:member',
      body: {
        site: {
          name: 'x',
          auth_url: 'http://127.0.0.1:9/v3',
          application_credential_id: 'id',
          application_credential_secret: 'sekrit',
        },
      },
    });
    expect(r.status).toBe(503);
    expect(r.text).not.toContain('sekrit');
  });
});
