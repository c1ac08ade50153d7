import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKeystone, startKeystone } from '../../../services/cloudsim/keystone.js';
import {
  AuthenticationError,
  EndpointNotFound,
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
        headers: { 'X-Subject-Token': 'garbage' },
        serviceName: 'identity',
        secrets: ['garbage'],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect(err.status).toBe(404);
    expect(err.service).toBe('identity');
    expect(err.osMessage).toMatch(/Could not find token/);
    const everything = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('DRAGON_PASS');
    await session.close();
  });
});
