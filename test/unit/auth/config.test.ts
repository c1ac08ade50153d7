import { describe, expect, it } from 'vitest';
import { createAuthMiddlewareFromConfig, keystoneAuthtokenOpts } from '../../../services/api/auth/index.js';
import {
  allGroups,
  defaultOpts,
  loadDragonConfig,
  renderSample,
} from '../../../services/common/config/index.js';

describe('auth configuration', () => {
  it('registers [keystone_authtoken] with keystonemiddleware defaults and a secret password', () => {
    expect(allGroups).toContain(keystoneAuthtokenOpts);
    const conf = loadDragonConfig({ env: {}, defaultFile: null });
    const kat = conf.get(keystoneAuthtokenOpts);
    expect(kat.token_cache_time).toBe(300);
    expect(kat.service_token_roles).toEqual(['service']);
    expect(kat.service_token_roles_required).toBe(false);
    expect(conf.get(defaultOpts).auth_strategy).toBe('keystone');
    const sample = renderSample(allGroups);
    expect(sample).toContain('[keystone_authtoken]');
    expect(sample).toMatch(/# Type: string \(secret\)\n#password =$/m);
  });

  it('reads env overrides and keeps the password out of the redacted view', () => {
    const conf = loadDragonConfig({
      env: {
        DRAGON_DEFAULT__AUTH_STRATEGY: 'noauth',
        DRAGON_KEYSTONE_AUTHTOKEN__PASSWORD: 'S3CRET-PASS',
        DRAGON_KEYSTONE_AUTHTOKEN__SERVICE_TOKEN_ROLES: 'service,admin',
      },
      defaultFile: null,
    });
    expect(conf.get(keystoneAuthtokenOpts).service_token_roles).toEqual(['service', 'admin']);
    expect(JSON.stringify(conf.redacted())).not.toContain('S3CRET-PASS');
    expect(() => createAuthMiddlewareFromConfig(conf)).not.toThrow();
  });

  it('refuses keystone auth without auth_url', () => {
    const conf = loadDragonConfig({ env: {}, defaultFile: null });
    expect(() => createAuthMiddlewareFromConfig(conf)).toThrow(/auth_url/);
  });
});
