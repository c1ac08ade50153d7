import express from 'express';
import { describe, expect, it } from 'vitest';
import type { HeatError } from '../../../services/cloudsim/heat/errors.js';
import {
  evaluateCondition,
  type ResolveContext,
  references,
  resolve,
  walkPath,
} from '../../../services/cloudsim/heat/functions.js';
import { DependencyGraph } from '../../../services/cloudsim/heat/graph.js';
import { CloudApi } from '../../../services/cloudsim/heat/resources/api.js';
import { RESOURCE_TYPES } from '../../../services/cloudsim/heat/resources/index.js';
import { ResourceFailure } from '../../../services/cloudsim/heat/resources/types.js';
import {
  describeParameters,
  evaluateConditions,
  parseTemplate,
  resolveParameters,
  validateResources,
} from '../../../services/cloudsim/heat/template.js';
import { listen } from '../../../services/cloudsim/server.js';
import type { SiteContext } from '../../../services/cloudsim/site.js';

const ctx = (params: Record<string, unknown> = {}, attrs: Record<string, unknown> = {}): ResolveContext => ({
  param: (n) => params[n],
  resource: (n) => `id-of-${n}`,
  attribute: async (r, a) => attrs[`${r}.${a}`],
  condition: (n) => n === 'yes',
});

describe('HOT intrinsic functions', () => {
  it('get_param, with a path into json and list parameters', async () => {
    const c = ctx({ name: 'web', cfg: { a: { b: [10, 20] } }, nets: ['n1', 'n2'] });
    expect(await resolve({ get_param: 'name' }, c)).toBe('web');
    expect(await resolve({ get_param: ['cfg', 'a', 'b', 1] }, c)).toBe(20);
    expect(await resolve({ get_param: ['nets', 0] }, c)).toBe('n1');
    expect(await resolve({ x: [{ get_param: 'name' }, 'lit'] }, c)).toEqual({ x: ['web', 'lit'] });
  });

  it('get_resource and get_attr with a nested path', async () => {
    const c = ctx({}, { 'port.fixed_ips': [{ ip_address: '10.0.0.5' }] });
    expect(await resolve({ get_resource: 'net' }, c)).toBe('id-of-net');
    expect(await resolve({ get_attr: ['port', 'fixed_ips', 0, 'ip_address'] }, c)).toBe('10.0.0.5');
  });

  it('list_join, str_replace (longest key first), str_split, map_merge', async () => {
    const c = ctx({ a: 'x' });
    expect(await resolve({ list_join: ['-', ['a', { get_param: 'a' }], ['c']] }, c)).toBe('a-x-c');
    expect(
      await resolve(
        { str_replace: { template: '$var1 and $var', params: { $var: 'short', $var1: 'long' } } },
        c,
      ),
    ).toBe('long and short');
    expect(await resolve({ str_split: [',', 'a,b,c', 1] }, c)).toBe('b');
    expect(await resolve({ map_merge: [{ a: 1 }, { b: 2, a: 3 }] }, c)).toEqual({ a: 3, b: 2 });
  });

  it('if and the condition functions', async () => {
    const c = ctx({ env: 'prod' });
    expect(await resolve({ if: ['yes', 'a', 'b'] }, c)).toBe('a');
    expect(await resolve({ if: ['no', 'a', 'b'] }, c)).toBe('b');
    expect(evaluateCondition({ equals: [{ get_param: 'env' }, 'prod'] }, c)).toBe(true);
    expect(evaluateCondition({ not: { equals: [{ get_param: 'env' }, 'prod'] } }, c)).toBe(false);
    expect(evaluateCondition({ or: [false, { and: [true, 'yes'] }] }, c)).toBe(true);
  });

  it('finds the references of a value with where they are', () => {
    const refs = references(
      { networks: [{ port: { get_resource: 'p' } }], ip: { get_attr: ['s', 'first_address'] } },
      'srv',
    );
    expect(refs).toEqual([
      { kind: 'get_resource', resource: 'p', path: 'srv.networks[0].port' },
      { kind: 'get_attr', resource: 's', path: 'srv.ip' },
    ]);
    expect(walkPath({ a: '{"b": 3}' }, ['a', 'b'])).toBe(3);
  });
});

describe('dependency graph', () => {
  it('orders creation after requirements and deletion before them', () => {
    const g = new DependencyGraph(['server', 'port', 'net', 'vol']);
    g.add('server', 'port');
    g.add('port', 'net');
    const order = g.order();
    expect(order.indexOf('net')).toBeLessThan(order.indexOf('port'));
    expect(order.indexOf('port')).toBeLessThan(order.indexOf('server'));
    expect(g.ready(['server', 'port', 'net', 'vol'], new Set()).sort()).toEqual(['net', 'vol']);
    expect(g.ready(['server', 'port'], new Set(['net', 'vol']))).toEqual(['port']);
    expect(g.readyToDelete(new Set(['server', 'port', 'net'])).sort()).toEqual(['server']);
    expect(g.requiredBy('net')).toEqual(['port']);
  });

  it('rejects a cycle', () => {
    const g = new DependencyGraph(['a', 'b']);
    g.add('a', 'b');
    g.add('b', 'a');
    expect(() => g.order()).toThrow(/Circular Dependency Found/);
  });
});

describe('HOT template parsing and validation', () => {
  const t = parseTemplate(`
heat_template_version: 2021-04-16
description: demo
parameters:
  count: {type: number, default: 2, constraints: [{range: {min: 1, max: 5}}]}
  flavor: {type: string, constraints: [{allowed_values: [m1.tiny, m1.small]}]}
  nets: {type: comma_delimited_list, default: "a, b"}
  debug: {type: boolean, default: "yes"}
  extra: {type: json, default: '{"k": 1}'}
  pw: {type: string, hidden: true, default: x}
conditions:
  big: {equals: [{get_param: flavor}, m1.small]}
resources:
  net: {type: OS::Neutron::Net}
  port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  extra_vol: {type: OS::Cinder::Volume, condition: big, properties: {size: 1}}
outputs:
  port: {value: {get_resource: port}}
`);

  it('coerces parameter values to their types and applies constraints', () => {
    const p = resolveParameters(t, { flavor: 'm1.tiny', count: '3' }, true);
    expect(p).toMatchObject({ count: 3, flavor: 'm1.tiny', nets: ['a', 'b'], debug: true, extra: { k: 1 } });
    expect(() => resolveParameters(t, { flavor: 'm1.huge' }, true)).toThrow(/not an allowed value/);
    expect(() => resolveParameters(t, { flavor: 'm1.tiny', count: 9 }, true)).toThrow(/out of range/);
    expect(() => resolveParameters(t, { flavor: 'm1.tiny', count: 'many' }, true)).toThrow(
      /must be a number/,
    );
    const missing = (() => {
      try {
        resolveParameters(t, {}, true);
      } catch (e) {
        return e as HeatError;
      }
    })();
    expect(missing?.type).toBe('UserParameterMissing');
    // template-validate does not require values.
    expect(resolveParameters(t, {}, false).flavor).toBeUndefined();
  });

  it('evaluates conditions and leaves out resources whose condition is false', () => {
    const small = evaluateConditions(t, resolveParameters(t, { flavor: 'm1.tiny' }, true));
    expect(small.big).toBe(false);
    expect([...validateResources(t, RESOURCE_TYPES, small).requires.keys()].sort()).toEqual(['net', 'port']);
    const big = evaluateConditions(t, resolveParameters(t, { flavor: 'm1.small' }, true));
    expect(validateResources(t, RESOURCE_TYPES, big).requires.has('extra_vol')).toBe(true);
  });

  it("adds Heat's implicit dependencies so deletion runs in an order Neutron accepts", () => {
    const implicit = parseTemplate({
      heat_template_version: '2018-08-31',
      resources: {
        net: { type: 'OS::Neutron::Net' },
        subnet: {
          type: 'OS::Neutron::Subnet',
          properties: { network: { get_resource: 'net' }, cidr: '10.0.0.0/24' },
        },
        other: { type: 'OS::Neutron::Subnet', properties: { network: 'elsewhere', cidr: '10.1.0.0/24' } },
        router: { type: 'OS::Neutron::Router', properties: { external_gateway_info: { network: 'public' } } },
        ri: {
          type: 'OS::Neutron::RouterInterface',
          properties: { router: { get_resource: 'router' }, subnet: { get_resource: 'subnet' } },
        },
        port: { type: 'OS::Neutron::Port', properties: { network: { get_resource: 'net' } } },
        server: {
          type: 'OS::Nova::Server',
          properties: {
            flavor: 'm1.tiny',
            image: 'cirros',
            networks: [{ network: { get_resource: 'net' } }],
          },
        },
        fip: { type: 'OS::Neutron::FloatingIP', properties: { floating_network: 'public' } },
      },
    });
    const g = validateResources(implicit, RESOURCE_TYPES);
    // A server or port on a network is deleted before every subnet of that network (and only that one).
    expect([...g.requires.get('server')!].sort()).toEqual(['net', 'subnet']);
    expect([...g.requires.get('port')!].sort()).toEqual(['net', 'subnet']);
    // A floating IP is released before router interfaces and the gateway router go.
    expect([...g.requires.get('fip')!].sort()).toEqual(['ri', 'router']);
    const order = g.order();
    expect(order.indexOf('subnet')).toBeLessThan(order.indexOf('server'));
    expect(order.indexOf('ri')).toBeLessThan(order.indexOf('fip'));
  });

  it('describes parameters the way template-validate answers', () => {
    const d = describeParameters(t, {}) as Record<string, Record<string, unknown>>;
    expect(d.count).toMatchObject({ Type: 'Number', Default: 2, MinValue: 1, MaxValue: 5 });
    expect(d.flavor).toMatchObject({ Type: 'String', AllowedValues: ['m1.tiny', 'm1.small'] });
    expect(d.nets.Type).toBe('CommaDelimitedList');
    expect(d.pw.NoEcho).toBe('true');
  });

  it('accepts release names as versions and rejects unknown versions and keys', () => {
    expect(parseTemplate({ heat_template_version: 'wallaby' }).version).toBe('2021-04-16');
    expect(parseTemplate({ heat_template_version: '2013-05-23' }).version).toBe('2013-05-23');
    expect(() => parseTemplate({ heat_template_version: '2012-01-01' })).toThrow(
      /template version is invalid/,
    );
    expect(() => parseTemplate({ heat_template_version: 'queens', resourcez: {} })).toThrow(
      /not a valid keyword/,
    );
    expect(() =>
      validateResources(
        parseTemplate({
          heat_template_version: 'queens',
          resources: { v: { type: 'OS::Cinder::VolumeAttachment', properties: {} } },
        }),
        RESOURCE_TYPES,
      ),
    ).toThrow(/Property instance_uuid not assigned/);
    expect(() =>
      validateResources(
        parseTemplate({
          heat_template_version: 'queens',
          resources: { a: { type: 'OS::Heat::None', depends_on: 'zz' } },
        }),
        RESOURCE_TYPES,
      ),
    ).toThrow(/reference "zz"/);
    expect(() =>
      validateResources(
        parseTemplate({
          heat_template_version: 'queens',
          resources: { a: { type: 'OS::Neutron::Net', properties: { name: { get_param: 'nope' } } } },
          outputs: { id: { value: { get_param: 'OS::stack_id' } } },
        }),
        RESOURCE_TYPES,
      ),
    ).toThrow('The Parameter (nope) was not provided.');
  });
});

describe('calls to the other services', () => {
  it('map errors to Heat-style kinds with the service message, never the token', async () => {
    const app = express();
    app.post('/v2.0/networks', (req, res) => {
      res.status(409).json({
        NeutronError: {
          type: 'Conflict',
          message: `quota exceeded for ${req.get('X-Auth-Token')}`,
          detail: '',
        },
      });
    });
    app.get('/v2.0/networks/:id', (_req, res) => {
      res.status(404).json({ NeutronError: { type: 'NetworkNotFound', message: 'nope', detail: '' } });
    });
    app.get('/v2.0/networks', (req, res) => {
      res.json({
        networks:
          req.query.name === 'twice'
            ? [{ id: 'a' }, { id: 'b' }]
            : req.query.name === 'one'
              ? [{ id: 'n1' }]
              : [],
      });
    });
    const l = await listen(app);
    try {
      const site = {
        endpoint: (type: string) =>
          type === 'network'
            ? l.url
            : (() => {
                throw new Error('no');
              })(),
      } as unknown as SiteContext;
      const api = new CloudApi(site, 'SECRET-TOKEN-123', 'p', new AbortController().signal);
      const err = (await api
        .call('network', 'POST', '/networks', { network: {} })
        .catch((e: unknown) => e)) as ResourceFailure;
      expect(err).toBeInstanceOf(ResourceFailure);
      expect(err.kind).toBe('Conflict');
      expect(err.message).toBe('quota exceeded for *** (HTTP 409)');
      expect(await api.neutronId('network', 'one')).toBe('n1');
      await expect(api.neutronId('network', 'twice')).rejects.toThrow(/Multiple physical resources/);
      await expect(api.neutronId('network', 'none')).rejects.toThrow(
        'The network (none) could not be found.',
      );
      expect(api.has('image')).toBe(false);
    } finally {
      await l.close();
    }
  });
});
