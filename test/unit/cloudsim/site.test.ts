import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { callerOf } from '../../../services/cloudsim/sim-auth.js';
import type { SiteContext } from '../../../services/cloudsim/site.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

// A minimal service proving the frame: catalog registration per region, auth, faults.
function echoService(site: SiteContext) {
  const router = express.Router();
  router.get('/v1/whoami', site.auth, (_req, res) => {
    const c = callerOf(res);
    res.json({ region: site.region, project: c.projectName, roles: c.roles });
  });
  return { type: 'echo', name: 'echo', router, catalogUrl: (base: string) => base };
}

let cloud: RunningCloud;
beforeAll(async () => {
  cloud = await startCloud({ services: [echoService] });
});
afterAll(async () => {
  await cloud?.close();
});

function demoSession(region: string) {
  return new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
    scope: { projectName: 'demo', projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
  });
}

describe('cloud simulator frame', () => {
  it('serves each service per region behind the catalog and the token check', async () => {
    for (const region of ['RegionOne', 'RegionTwo']) {
      const s = demoSession(region);
      const r = await s.requestJson<{ region: string; project: string; roles: string[] }>('GET', {
        service: 'echo',
        path: '/v1/whoami',
      });
      expect(r.region).toBe(region);
      expect(r.project).toBe('demo');
      expect(r.roles).toContain('member');
    }
    const anonymous = await fetch(`${cloud.sites.RegionOne.endpoints.echo}/v1/whoami`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-openstack-request-id')).toMatch(/^req-/);
  });

  it('switches a whole site off while the other works on', async () => {
    cloud.faults.RegionOne.outage = true;
    try {
      await expect(fetch(`${cloud.sites.RegionOne.endpoints.echo}/v1/whoami`)).rejects.toThrow();
      const ok = await fetch(`${cloud.sites.RegionTwo.endpoints.echo}/v1/whoami`);
      expect(ok.status).toBe(401);
    } finally {
      cloud.faults.RegionOne.outage = false;
    }
  });
});
