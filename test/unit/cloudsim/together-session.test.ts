/**
 * The session over the whole simulator: re-authentication once the token
 * has expired, catalog selection between RegionOne and RegionTwo, and a
 * RegionOne outage that every client sees as a connection error naming its
 * service while RegionTwo works on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { OpenStackConnectionError } from '../../../services/common/openstack/errors.js';
import { clientsOf, startWholeCloud } from './together-support.js';

const TOKEN_SECONDS = 5;
let cloud: RunningCloud;
beforeAll(async () => {
  cloud = await startWholeCloud({ tokenExpiration: TOKEN_SECONDS });
});
afterAll(async () => {
  await cloud?.close();
});

describe('sessions across the whole simulator', () => {
  it('re-authenticates when the token has expired', async () => {
    const c = clientsOf(cloud);
    const first = await c.session.getToken();
    const access = await c.session.authenticate();
    expect(access.expiresAt.getTime() - access.issuedAt.getTime()).toBe(TOKEN_SECONDS * 1000);
    await c.cinder.createVolume({ name: 'before-expiry', size: 1 });
    await new Promise((r) => setTimeout(r, (TOKEN_SECONDS + 1) * 1000));

    // The old token is really dead at the services...
    const url = await c.session.endpointFor('volumev3');
    const stale = await fetch(`${url}/volumes`, { headers: { 'X-Auth-Token': first } });
    expect(stale.status).toBe(401);
    // ...and the clients still work: the session fetched a new one.
    expect((await c.cinder.listVolumes()).map((v) => v.name)).toEqual(['before-expiry']);
    expect((await c.nova.listServers()).length).toBe(0);
    expect(await c.session.getToken()).not.toBe(first);
  }, 30_000);

  it('selects each region from the catalog: a RegionOne volume is not in RegionTwo', async () => {
    const one = clientsOf(cloud, 'RegionOne');
    const two = clientsOf(cloud, 'RegionTwo');
    const v = await one.cinder.createVolume({ name: 'only-in-one', size: 1 });
    await one.cinder.waitForVolume(v.id);
    expect((await one.cinder.listVolumes()).map((x) => x.id)).toContain(v.id);
    expect((await two.cinder.listVolumes()).map((x) => x.id)).not.toContain(v.id);
    expect(await two.cinder.findVolume(v.id)).toBeUndefined();
    const [e1, e2] = await Promise.all([
      one.session.endpointFor('volumev3'),
      two.session.endpointFor('volumev3'),
    ]);
    expect(e1).not.toBe(e2);
    await two.swift.createContainer('two-only');
    expect((await one.swift.listContainers()).map((x) => x.name)).not.toContain('two-only');
  }, 30_000);

  it('a RegionOne outage fails every client fast with a connection error naming the service; RegionTwo works', async () => {
    const one = clientsOf(cloud, 'RegionOne');
    const two = clientsOf(cloud, 'RegionTwo');
    await one.session.authenticate();
    cloud.faults.RegionOne.outage = true;
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['compute', () => one.nova.listServers()],
        ['network', () => one.neutron.listNetworks()],
        ['volumev3', () => one.cinder.listVolumes()],
        ['image', () => one.glance.listImages()],
        ['orchestration', () => one.heat.listStacks()],
        ['object-store', () => one.swift.listContainers()],
        ['volumev3', () => one.cinder.createVolume({ name: 'during-outage', size: 1 })],
      ];
      const t0 = performance.now();
      const results = await Promise.all(
        calls.map(async ([service, call]) => {
          const err = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          return { service, err };
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      for (const { service, err } of results) {
        expect(err, service).toBeInstanceOf(OpenStackConnectionError);
        expect((err as OpenStackConnectionError).service).toBe(service);
        expect((err as Error).message).toContain(service);
      }
      // GETs are retried 3 times with backoff (0.5, 1, 2 s ± 25 %); nothing waits for a timeout.
      expect(seconds).toBeLessThan(10);
      console.info(`RegionOne outage: ${calls.length} client calls failed in ${seconds.toFixed(1)} s`);

      expect((await two.nova.listServers()).length).toBe(0);
      expect((await two.neutron.listNetworks({ name: 'public' })).length).toBe(1);
      expect((await two.glance.listImages()).length).toBeGreaterThan(0);
      expect(await two.heat.listStacks()).toEqual([]);
      await two.cinder.listVolumes();
      await two.swift.listContainers();
    } finally {
      cloud.faults.RegionOne.outage = false;
    }
    expect(Array.isArray(await one.cinder.listVolumes())).toBe(true);
  }, 60_000);
});
