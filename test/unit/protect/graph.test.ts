import { describe, expect, it } from 'vitest';
import { protectSteps } from '../../../services/common/objects/checkpoints.js';
import { narrowProtectGraph, narrowServerDependencies } from '../../../services/engine/protect/graph.js';

const SERVER = 'OS::Nova::Server';
const VOLUME = 'OS::Cinder::Volume';

/** The planned graph of a policy, as the engine reads it back (depends_on always set). */
function planned(resources: Array<[string, string]>, consistency: 'none' | 'paused' = 'none') {
  return protectSteps(
    resources.map(([type, id]) => ({
      resource_id: id,
      resource_type: type,
      action: type === SERVER ? 'image-copy' : 'volume-snapshot',
      options: {},
      resource_name: null,
    })),
    consistency,
  ).map((s) => ({
    name: s.name,
    resource_type: s.resource_type ?? null,
    resource_id: s.resource_id ?? null,
    depends_on: s.depends_on ?? [],
  }));
}

describe('narrowing the protect graph with what the primary says', () => {
  const steps = planned([
    [SERVER, 'web'],
    [SERVER, 'db'],
    [VOLUME, 'data'],
    [VOLUME, 'logs'],
    [VOLUME, 'spare'],
  ]);

  it('as planned, every server waits for every volume of the policy', () => {
    const web = steps.find((s) => s.name === 'server-web');
    expect(web?.depends_on.sort()).toEqual(['volume-data', 'volume-logs', 'volume-spare']);
  });

  it('lets a server wait only for the volumes attached to it', () => {
    const narrowed = narrowServerDependencies(steps, [
      { id: 'data', attachments: [{ server_id: 'db' }] },
      { id: 'logs', attachments: [{ server_id: 'db' }, { server_id: 'web' }] },
      { id: 'spare', attachments: [] },
    ]);
    expect(narrowed['server-db']?.sort()).toEqual(['volume-data', 'volume-logs']);
    expect(narrowed['server-web']).toEqual(['volume-logs']);
    // Volume steps and the built-in steps are left as planned.
    expect(Object.keys(narrowed).sort()).toEqual(['server-db', 'server-web']);
  });

  it('keeps a volume the listing does not show before every server (who uses it is unknown)', () => {
    const narrowed = narrowServerDependencies(steps, [
      { id: 'data', attachments: [] },
      { id: 'logs', attachments: [] },
    ]);
    expect(narrowed['server-web']).toEqual(['volume-spare']);
    expect(narrowed['server-db']).toEqual(['volume-spare']);
  });

  it('keeps the pause step before every server', () => {
    const paused = planned(
      [
        [SERVER, 'web'],
        [VOLUME, 'data'],
      ],
      'paused',
    );
    const narrowed = narrowServerDependencies(paused, [{ id: 'data', attachments: [] }]);
    expect(narrowed['server-web']).toEqual(['zz-pause']);
  });

  it('reads the volumes once at the primary, and not at all without servers and volumes together', async () => {
    let listings = 0;
    const cinder = {
      listVolumes: async () => {
        listings++;
        return [{ id: 'data', attachments: [{ server_id: 'web' }] }];
      },
    };
    const primary = { cinder } as never;
    expect(await narrowProtectGraph(planned([[SERVER, 'web']]), primary)).toEqual({});
    expect(listings).toBe(0);
    const narrowed = await narrowProtectGraph(
      planned([
        [SERVER, 'web'],
        [SERVER, 'db'],
        [VOLUME, 'data'],
      ]),
      primary,
    );
    expect(listings).toBe(1);
    expect(narrowed).toEqual({ 'server-db': [] });
  });

  it('starts the template before the resource steps when both are ready', () => {
    const template = protectSteps([
      { resource_id: 'web', resource_type: SERVER, action: 'image-copy', options: {}, resource_name: null },
    ]).find((s) => s.name === 'zz-template');
    expect(template?.params?.priority).toBeGreaterThan(0);
  });
});
