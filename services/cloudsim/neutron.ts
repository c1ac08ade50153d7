/**
 * Simulated Neutron (Networking API v2.0, catalog type `network`): networks,
 * subnets, ports, routers with interfaces, security groups and rules,
 * floating IPs from an admin-owned external network `public` created when the
 * site starts. Lists filter on any attribute given as a query parameter and
 * honour `fields`, like Neutron's API layer. A project sees its own
 * resources (plus shared and external networks); admin sees everything.
 * Errors use Neutron's body: {"NeutronError": {"type", "message", "detail"}}.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { NetworkServiceApi } from './contracts.js';
import { type FixedIp, NeutronFault, NeutronModel, type Row, touch } from './neutron-model.js';
import { novaFacing } from './neutron-nova.js';
import { callerOf, type SimCaller } from './sim-auth.js';
import type { SiteContext } from './site.js';

/** The external network's subnet per region (devstack's 172.24.4.0/24 for the first). */
const PUBLIC_CIDRS: Record<string, string> = { RegionOne: '172.24.4.0/24', RegionTwo: '172.25.4.0/24' };

function publicCidr(region: string): string {
  if (PUBLIC_CIDRS[region]) return PUBLIC_CIDRS[region];
  let h = 0;
  for (const c of region) h = (h * 31 + c.charCodeAt(0)) % 200;
  return `172.${26 + (h % 6)}.${h}.0/24`;
}

/** The API extensions whose behaviour the simulator implements. */
const EXTENSIONS: Array<[string, string]> = [
  ['router', 'Neutron L3 Router'],
  ['external-net', 'Neutron external network'],
  ['security-group', 'security-group'],
  ['binding', 'Port Binding'],
  ['port-security', 'Port Security'],
  ['allowed-address-pairs', 'Allowed Address Pairs'],
  ['standard-attr-description', 'standard-attr-description'],
  ['standard-attr-timestamp', 'Resource timestamps'],
  ['standard-attr-revisions', 'Resource revision numbers'],
  ['fip-port-details', 'Floating IP Port Details Extension'],
  ['availability_zone', 'Availability Zone'],
  ['provider', 'Provider Network'],
];

/** Query parameters that steer the listing rather than filter it. */
const NOT_FILTERS = new Set([
  'fields',
  'limit',
  'marker',
  'page_reverse',
  'sort_key',
  'sort_dir',
  'all_tenants',
]);

export interface NeutronService extends NetworkServiceApi {
  model: NeutronModel;
  /** The external network created at start (`public`). */
  publicNetworkId(): string;
}

export function neutronService(site: SiteContext): NeutronService {
  const model = new NeutronModel();
  let publicNet = '';
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));

  router.get('/', (_req, res) => {
    res.json({
      versions: [
        {
          id: 'v2.0',
          status: 'CURRENT',
          links: [{ rel: 'self', href: `${site.endpoint('network')}/v2.0/` }],
        },
      ],
    });
  });

  const api = express.Router();
  router.use(
    '/v2.0',
    site.auth,
    (_req, res, next) => {
      // Neutron creates a project's default security group the first time the project uses the API.
      model.ensureDefaultSecurityGroup(callerOf(res).projectId);
      next();
    },
    api,
  );

  const projectOf = (c: SimCaller, b: Record<string, unknown>): string => {
    const asked = (b.project_id ?? b.tenant_id) as string | undefined;
    if (asked && asked !== c.projectId && !c.isAdmin)
      throw new NeutronFault(
        403,
        'HTTPForbidden',
        "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
      );
    return asked ?? c.projectId;
  };

  const visible: Record<string, (c: SimCaller, r: Row) => boolean> = {
    network: (c, r) =>
      c.isAdmin || r.project_id === c.projectId || r.shared === true || r['router:external'] === true,
    subnet: (c, r) => {
      if (c.isAdmin || r.project_id === c.projectId) return true;
      return model.networks.get(String(r.network_id))?.shared === true;
    },
    own: (c, r) => c.isAdmin || r.project_id === c.projectId,
  };

  const bodyOf = (req: Request, key: string): Record<string, unknown> => {
    const b = (req.body as Record<string, unknown> | undefined)?.[key];
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      throw new NeutronFault(400, 'HTTPBadRequest', `Resource body required`);
    return b as Record<string, unknown>;
  };

  const fieldsOf = (req: Request): string[] | undefined => {
    const f = req.query.fields;
    if (f === undefined) return undefined;
    return (Array.isArray(f) ? f : [f]).flatMap((x) => String(x).split(','));
  };

  const project = (r: Row, fields: string[] | undefined): Record<string, unknown> =>
    fields ? Object.fromEntries(fields.filter((k) => k in r).map((k) => [k, r[k]])) : r;

  const matches = (r: Row, req: Request): boolean => {
    for (const [k, raw] of Object.entries(req.query)) {
      if (NOT_FILTERS.has(k)) continue;
      const wanted = (Array.isArray(raw) ? raw : [raw]).map(String);
      if (k === 'fixed_ips') {
        const ips = r.fixed_ips as FixedIp[] | undefined;
        if (!ips) return false;
        const ok = wanted.every((w) => {
          const [key, value] = w.split('=');
          return ips.some((f) => (f as unknown as Record<string, string>)[key] === value);
        });
        if (!ok) return false;
        continue;
      }
      if (!(k in r)) continue;
      const v = r[k];
      const have = v === null || v === undefined ? '' : String(v);
      const bool = typeof v === 'boolean';
      if (!wanted.some((w) => (bool ? w.toLowerCase() === have : w === have))) return false;
    }
    return true;
  };

  interface Kind {
    path: string;
    singular: string;
    plural: string;
    map: Map<string, Row>;
    visible: (c: SimCaller, r: Row) => boolean;
    get: (id: string) => Row;
    view?: (r: Row) => Row;
  }

  const listRoute = (k: Kind) =>
    api.get(`/${k.path}`, (req, res) => {
      const c = callerOf(res);
      const fields = fieldsOf(req);
      const rows = [...k.map.values()]
        .filter((r) => k.visible(c, r) && matches(r, req))
        .map((r) => project(k.view ? k.view(r) : r, fields));
      res.json({ [k.plural]: rows });
    });

  const findVisible = (k: Kind, c: SimCaller, id: string): Row => {
    const r = k.get(id);
    // Another project's resource answers exactly like an unknown id.
    if (!k.visible(c, r)) k.get(`${id}\u0000`);
    return r;
  };

  const showRoute = (k: Kind) =>
    api.get(`/${k.path}/:id`, (req, res) => {
      const r = findVisible(k, callerOf(res), req.params.id as string);
      res.json({ [k.singular]: project(k.view ? k.view(r) : r, fieldsOf(req)) });
    });

  /** Only the owner (or admin) may change a resource it can see (e.g. a shared network). */
  const findOwned = (k: Kind, c: SimCaller, id: string): Row => {
    const r = findVisible(k, c, id);
    if (!c.isAdmin && r.project_id !== c.projectId) k.get(`${id}\u0000`);
    return r;
  };

  const kinds: Record<string, Kind> = {
    network: {
      path: 'networks',
      singular: 'network',
      plural: 'networks',
      map: model.networks,
      visible: visible.network,
      get: (id) => model.network(id),
    },
    subnet: {
      path: 'subnets',
      singular: 'subnet',
      plural: 'subnets',
      map: model.subnets,
      visible: visible.subnet,
      get: (id) => model.subnet(id),
    },
    port: {
      path: 'ports',
      singular: 'port',
      plural: 'ports',
      map: model.ports,
      visible: visible.own,
      get: (id) => model.port(id),
    },
    router: {
      path: 'routers',
      singular: 'router',
      plural: 'routers',
      map: model.routers,
      visible: visible.own,
      get: (id) => model.router(id),
    },
    securityGroup: {
      path: 'security-groups',
      singular: 'security_group',
      plural: 'security_groups',
      map: model.securityGroups,
      visible: visible.own,
      get: (id) => model.securityGroup(id),
      view: (g) => model.groupView(g),
    },
    rule: {
      path: 'security-group-rules',
      singular: 'security_group_rule',
      plural: 'security_group_rules',
      map: model.securityGroupRules,
      visible: visible.own,
      get: (id) => {
        const r = model.securityGroupRules.get(id);
        if (!r)
          throw new NeutronFault(
            404,
            'SecurityGroupRuleNotFound',
            `Security group rule ${id.replace(/\0/g, '')} does not exist`,
          );
        return r;
      },
    },
    floatingIp: {
      path: 'floatingips',
      singular: 'floatingip',
      plural: 'floatingips',
      map: model.floatingIps,
      visible: visible.own,
      get: (id) => model.floatingIp(id),
    },
  };
  for (const k of Object.values(kinds)) {
    listRoute(k);
    showRoute(k);
  }

  // ---- extensions: clients (openstacksdk, Heat) probe these before using a feature
  const extensions = EXTENSIONS.map(([alias, name]) => ({
    alias,
    name,
    description: name,
    links: [],
    updated: '2013-01-01T00:00:00-00:00',
  }));
  api.get('/extensions', (_req, res) => {
    res.json({ extensions });
  });
  api.get('/extensions/:alias', (req, res) => {
    const e = extensions.find((x) => x.alias === req.params.alias);
    if (!e)
      throw new NeutronFault(404, 'HTTPNotFound', `Extension with alias ${req.params.alias} does not exist`);
    res.json({ extension: e });
  });

  // ---- networks
  api.post('/networks', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'network');
    if ((b.shared === true || b['router:external'] === true) && !c.isAdmin)
      throw new NeutronFault(
        403,
        'PolicyNotAuthorized',
        `(rule:create_network and (rule:create_network:${b.shared ? 'shared' : 'router:external'})) is disallowed by policy`,
      );
    res.status(201).json({ network: model.createNetwork(projectOf(c, b), b) });
  });
  api.put('/networks/:id', (req, res) => {
    const c = callerOf(res);
    const n = findOwned(kinds.network, c, req.params.id as string);
    const b = bodyOf(req, 'network');
    for (const k of ['name', 'description', 'admin_state_up', 'mtu', 'port_security_enabled'])
      if (k in b) n[k] = b[k];
    if (c.isAdmin) for (const k of ['shared', 'router:external']) if (k in b) n[k] = b[k] === true;
    touch(n);
    res.json({ network: n });
  });
  api.delete('/networks/:id', (req, res) => {
    const n = findOwned(kinds.network, callerOf(res), req.params.id as string);
    model.deleteNetwork(n.id);
    res.status(204).end();
  });

  // ---- subnets
  api.post('/subnets', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'subnet');
    if (typeof b.network_id === 'string') {
      const n = model.networks.get(b.network_id);
      if (!n || (!c.isAdmin && n.project_id !== c.projectId))
        throw new NeutronFault(404, 'NetworkNotFound', `Network ${b.network_id} could not be found.`);
    }
    res.status(201).json({ subnet: model.createSubnet(projectOf(c, b), b) });
  });
  api.put('/subnets/:id', (req, res) => {
    const s = findOwned(kinds.subnet, callerOf(res), req.params.id as string);
    model.updateSubnet(s, bodyOf(req, 'subnet'));
    res.json({ subnet: s });
  });
  api.delete('/subnets/:id', (req, res) => {
    const s = findOwned(kinds.subnet, callerOf(res), req.params.id as string);
    model.deleteSubnet(s.id);
    res.status(204).end();
  });

  // ---- ports
  api.post('/ports', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'port');
    if (typeof b.network_id === 'string') findVisible(kinds.network, c, b.network_id);
    const owner = projectOf(c, b);
    if (Array.isArray(b.security_groups))
      for (const g of b.security_groups) findOwned(kinds.securityGroup, c, String(g));
    res.status(201).json({ port: model.createPort(owner, b) });
  });
  api.put('/ports/:id', (req, res) => {
    const c = callerOf(res);
    const p = findOwned(kinds.port, c, req.params.id as string);
    const b = bodyOf(req, 'port');
    if (Array.isArray(b.security_groups))
      for (const g of b.security_groups) findOwned(kinds.securityGroup, c, String(g));
    model.updatePort(p, b);
    res.json({ port: p });
  });
  api.delete('/ports/:id', (req, res) => {
    const p = findOwned(kinds.port, callerOf(res), req.params.id as string);
    model.deletePort(p.id);
    res.status(204).end();
  });

  // ---- routers
  api.post('/routers', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'router');
    res.status(201).json({ router: model.createRouter(projectOf(c, b), b) });
  });
  api.put('/routers/:id/add_router_interface', (req, res) => {
    const c = callerOf(res);
    const r = findOwned(kinds.router, c, req.params.id as string);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.subnet_id === 'string') findOwned(kinds.subnet, c, b.subnet_id);
    if (typeof b.port_id === 'string') findOwned(kinds.port, c, b.port_id);
    res.json(model.addInterface(r, b));
  });
  api.put('/routers/:id/remove_router_interface', (req, res) => {
    const r = findOwned(kinds.router, callerOf(res), req.params.id as string);
    res.json(model.removeInterface(r, (req.body ?? {}) as Record<string, unknown>));
  });
  api.put('/routers/:id', (req, res) => {
    const r = findOwned(kinds.router, callerOf(res), req.params.id as string);
    const b = bodyOf(req, 'router');
    for (const k of ['name', 'description', 'admin_state_up', 'routes']) if (k in b) r[k] = b[k];
    if ('external_gateway_info' in b)
      model.setGateway(r, b.external_gateway_info as Record<string, unknown> | null);
    touch(r);
    res.json({ router: r });
  });
  api.delete('/routers/:id', (req, res) => {
    const r = findOwned(kinds.router, callerOf(res), req.params.id as string);
    model.deleteRouter(r.id);
    res.status(204).end();
  });

  // ---- security groups and rules
  api.post('/security-groups', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'security_group');
    const owner = projectOf(c, b);
    model.ensureDefaultSecurityGroup(owner);
    if (b.name === 'default')
      throw new NeutronFault(
        409,
        'SecurityGroupDefaultAlreadyExists',
        'Default security group already exists.',
      );
    res.status(201).json({ security_group: model.groupView(model.createSecurityGroup(owner, b)) });
  });
  api.put('/security-groups/:id', (req, res) => {
    const g = findOwned(kinds.securityGroup, callerOf(res), req.params.id as string);
    const b = bodyOf(req, 'security_group');
    for (const k of ['name', 'description']) if (k in b) g[k] = b[k];
    touch(g);
    res.json({ security_group: model.groupView(g) });
  });
  api.delete('/security-groups/:id', (req, res) => {
    const c = callerOf(res);
    const g = findOwned(kinds.securityGroup, c, req.params.id as string);
    model.deleteSecurityGroup(g.id, c.isAdmin);
    res.status(204).end();
  });
  api.post('/security-group-rules', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'security_group_rule');
    if (typeof b.security_group_id === 'string') findOwned(kinds.securityGroup, c, b.security_group_id);
    const g = model.securityGroup(String(b.security_group_id));
    res.status(201).json({ security_group_rule: model.createRule(g.project_id, b) });
  });
  api.delete('/security-group-rules/:id', (req, res) => {
    const r = findOwned(kinds.rule, callerOf(res), req.params.id as string);
    model.securityGroupRules.delete(r.id);
    res.status(204).end();
  });

  // ---- floating IPs
  api.post('/floatingips', (req, res) => {
    const c = callerOf(res);
    const b = bodyOf(req, 'floatingip');
    if (typeof b.floating_network_id === 'string') findVisible(kinds.network, c, b.floating_network_id);
    if (typeof b.port_id === 'string') findOwned(kinds.port, c, b.port_id);
    res.status(201).json({ floatingip: model.createFloatingIp(projectOf(c, b), b) });
  });
  api.put('/floatingips/:id', (req, res) => {
    const c = callerOf(res);
    const f = findOwned(kinds.floatingIp, c, req.params.id as string);
    const b = bodyOf(req, 'floatingip');
    if (typeof b.port_id === 'string') findOwned(kinds.port, c, b.port_id);
    model.updateFloatingIp(f, b);
    res.json({ floatingip: f });
  });
  api.delete('/floatingips/:id', (req, res) => {
    const f = findOwned(kinds.floatingIp, callerOf(res), req.params.id as string);
    model.deleteFloatingIp(f.id);
    res.status(204).end();
  });

  router.use((req: Request, res: Response) => {
    neutronError(res, 404, 'HTTPNotFound', `The resource could not be found.`);
    void req;
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NeutronFault) return neutronError(res, err.status, err.type, err.message);
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed')
      return neutronError(res, 400, 'HTTPBadRequest', 'Malformed request body');
    neutronError(
      res,
      500,
      'HTTPInternalServerError',
      'Request Failed: internal server error while processing your request.',
    );
  });

  const service: NeutronService = {
    type: 'network',
    name: 'neutron',
    router,
    model,
    catalogUrl: (base) => base,
    publicNetworkId: () => publicNet,

    async start() {
      const admin = site.identity.findProject({ name: 'admin', domainId: 'default' });
      const owner = admin?.id ?? '';
      const net = model.createNetwork(owner, { name: 'public', 'router:external': true, shared: false });
      net.is_default = true;
      model.createSubnet(owner, {
        network_id: net.id,
        name: 'public-subnet',
        cidr: publicCidr(site.region),
        enable_dhcp: false,
      });
      publicNet = net.id;
    },

    ...novaFacing(model),
  };
  return service;
}

function neutronError(res: Response, status: number, type: string, message: string): void {
  res.status(status).json({ NeutronError: { type, message, detail: '' } });
}
