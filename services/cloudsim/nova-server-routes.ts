/**
 * Nova's server collection: create (API-time checks as Nova makes them,
 * then the asynchronous build of nova-servers.ts), list with filters, show,
 * update, delete.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { NovaContext } from './nova-context.js';
import { atLeast } from './nova-microversion.js';
import { type NetworkRequest, NovaFault, type ServerVolume, serverStatus } from './nova-servers.js';
import { serverViewer } from './nova-views.js';
import { callerOf } from './sim-auth.js';

export function serverRoutes(
  api: Router,
  ctx: NovaContext,
  hasKeypair: (userId: string, name: string) => boolean,
): void {
  const serverView = serverViewer(ctx);
  const { store, network, volumes, computeUrl, link, findServer, visibleImage, findFlavor } = ctx;

  api.post('/servers', async (req, res) => {
    const c = callerOf(res);
    const b = (req.body as { server?: Record<string, unknown> })?.server;
    if (!b || typeof b !== 'object')
      throw new NovaFault(400, "Invalid input for field/attribute server. 'server' is a required property");
    if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 255)
      throw new NovaFault(
        400,
        `Invalid input for field/attribute name. Value: ${String(b.name)}. 'name' is a required property`,
      );
    if (typeof b.flavorRef !== 'string' && typeof b.flavorRef !== 'number')
      throw new NovaFault(
        400,
        "Invalid input for field/attribute server. 'flavorRef' is a required property",
      );
    const flavor = findFlavor(String(b.flavorRef));
    if (!flavor) throw new NovaFault(400, 'Invalid flavorRef provided.');
    if (Number(b.min_count ?? 1) > 1 || Number(b.max_count ?? 1) > 1)
      throw new NovaFault(400, 'The simulator boots one server per request (min_count/max_count must be 1)');

    // Image or boot volume.
    let imageId: string | null = null;
    const serverVolumes: ServerVolume[] = [];
    const bdms = Array.isArray(b.block_device_mapping_v2)
      ? (b.block_device_mapping_v2 as Array<Record<string, unknown>>)
      : [];
    const rootBdm = bdms.find((d) => Number(d.boot_index) === 0);
    if (rootBdm && rootBdm.source_type === 'image' && rootBdm.destination_type !== 'volume')
      imageId = String(rootBdm.uuid);
    else if (typeof b.imageRef === 'string' && b.imageRef !== '') imageId = b.imageRef.replace(/^.*\//, '');
    if (imageId) {
      const img = visibleImage(c, imageId);
      if (!img) throw new NovaFault(400, 'Can not find requested image');
      if (img.status !== 'active') throw new NovaFault(400, `Image ${imageId} is not active.`);
      if (img.size !== null && flavor.disk > 0 && img.size > flavor.disk * 1024 ** 3)
        throw new NovaFault(
          400,
          "Flavor's disk is too small for requested image. Flavor disk is " +
            `${flavor.disk * 1024 ** 3} bytes, image is ${img.size} bytes.`,
        );
    }
    for (const d of bdms) {
      if (d.source_type === 'image' && d.destination_type === 'volume')
        throw new NovaFault(
          400,
          'Block Device Mapping is Invalid: source_type image with destination_type volume is not simulated; create the volume from the image first.',
        );
      if (d.source_type !== 'volume') continue;
      const vid = String(d.uuid);
      const vol = volumes().getVolume(vid);
      if (!vol || (vol.project_id !== c.projectId && !c.isAdmin))
        throw new NovaFault(400, `Block Device Mapping is Invalid: failed to get volume ${vid}.`);
      if (vol.status !== 'available')
        throw new NovaFault(
          400,
          `Invalid volume: volume ${vid} status must be available, but current status is: ${vol.status}`,
        );
      const root = Number(d.boot_index) === 0;
      serverVolumes.push({
        volumeId: vid,
        device: typeof d.device_name === 'string' ? d.device_name : '',
        deleteOnTermination: d.delete_on_termination === true,
        tag: typeof d.tag === 'string' ? d.tag : null,
        root,
      });
    }
    if (!imageId && !serverVolumes.some((v) => v.root))
      throw new NovaFault(
        400,
        'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
      );

    // Networks.
    let nets: NetworkRequest[] = [];
    const n = b.networks;
    if (n === undefined && atLeast(res, 37))
      throw new NovaFault(400, "Invalid input for field/attribute server. 'networks' is a required property");
    if (n === 'none') nets = [];
    else if (n === undefined || n === 'auto') {
      const usable = network().usableNetworks(c.projectId);
      if (usable.length > 1)
        throw new NovaFault(409, 'Multiple possible networks found, use a Network ID to be more specific.');
      if (usable.length === 0 && n === 'auto')
        throw new NovaFault(400, `Unable to automatically allocate a network for project ${c.projectId}`);
      nets = usable.map((u) => ({ uuid: u.id }));
    } else if (Array.isArray(n)) {
      for (const r of n as Array<Record<string, unknown>>) {
        if (typeof r.port === 'string') {
          const p = network().findPort(r.port);
          if (!p || (p.projectId !== c.projectId && !c.isAdmin))
            throw new NovaFault(400, `Port ${r.port} could not be found.`);
          if (p.deviceId) throw new NovaFault(409, `Port ${r.port} is still in use.`);
          nets.push({ port: r.port });
        } else if (typeof r.uuid === 'string') {
          const net = network().findNetwork(c.projectId, r.uuid);
          if (!net) throw new NovaFault(400, `Network ${r.uuid} could not be found.`);
          if (net.subnets.length === 0)
            throw new NovaFault(400, `Network ${r.uuid} requires a subnet in order to boot instances on.`);
          nets.push({ uuid: r.uuid, fixed_ip: typeof r.fixed_ip === 'string' ? r.fixed_ip : undefined });
        } else
          throw new NovaFault(
            400,
            'Invalid input for field/attribute networks. Each network needs a uuid or a port.',
          );
      }
    } else throw new NovaFault(400, `Invalid input for field/attribute networks. Value: ${String(n)}.`);

    const keyName = typeof b.key_name === 'string' ? b.key_name : null;
    if (keyName && !hasKeypair(c.userId, keyName)) throw new NovaFault(400, 'Invalid key_name provided.');
    const groups = Array.isArray(b.security_groups)
      ? (b.security_groups as Array<{ name?: string }>).map((g) => String(g.name))
      : ['default'];
    for (const g of groups)
      if (!network().findSecurityGroup(c.projectId, g))
        throw new NovaFault(400, `Security group ${g} not found.`);
    const az =
      typeof b.availability_zone === 'string' && b.availability_zone !== ''
        ? b.availability_zone.split(':')[0]
        : 'nova';
    if (az !== 'nova') throw new NovaFault(400, 'The requested availability zone is not available');
    const metadata = (b.metadata ?? {}) as Record<string, unknown>;
    if (typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string'))
      throw new NovaFault(400, 'Invalid input for field/attribute metadata. Values must be strings.');
    if (typeof b.user_data === 'string' && !/^[A-Za-z0-9+/=\s]*$/.test(b.user_data))
      throw new NovaFault(400, 'Invalid input for field/attribute user_data. Value must be base64 encoded.');

    // Devices of boot and extra volumes, in order.
    let next = imageId ? 'b' : 'a';
    for (const v of serverVolumes.sort((a, x) => Number(x.root) - Number(a.root))) {
      if (v.root) v.device = '/dev/vda';
      else if (!v.device) {
        if (next === 'a') next = 'b';
        v.device = `/dev/vd${next}`;
        next = String.fromCharCode(next.charCodeAt(0) + 1);
      }
    }

    const s = store.newServer({
      name: b.name,
      projectId: c.projectId,
      userId: c.userId,
      imageId,
      flavor,
      keyName,
      availabilityZone: az,
      metadata: metadata as Record<string, string>,
      userData: typeof b.user_data === 'string' ? b.user_data : null,
      description: typeof b.description === 'string' ? b.description : null,
      networks: nets,
      securityGroups: groups,
      volumes: serverVolumes,
    });
    res
      .status(202)
      .location(`${computeUrl()}/servers/${s.id}`)
      .json({
        server: {
          id: s.id,
          links: link('servers', s.id),
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: groups.map((name) => ({ name })),
          adminPass: randomBytes(9).toString('base64url'),
        },
      });
  });

  const listServers = (req: Request, res: Response, detail: boolean) => {
    const c = callerOf(res);
    const q = req.query as Record<string, string | undefined>;
    const all = c.isAdmin && q.all_tenants !== undefined && !['0', 'false', 'False'].includes(q.all_tenants);
    const projectFilter = all ? (q.project_id ?? q.tenant_id) : c.projectId;
    let rows = [...store.servers.values()].filter((s) => !projectFilter || s.projectId === projectFilter);
    if (q.name) {
      const re = safeRegex(q.name);
      rows = rows.filter((s) => re.test(s.name));
    }
    if (q.status) rows = rows.filter((s) => serverStatus(s) === q.status?.toUpperCase());
    if (q.image) rows = rows.filter((s) => s.imageId === q.image);
    if (q.flavor) rows = rows.filter((s) => s.flavor.id === q.flavor);
    if (q.availability_zone) rows = rows.filter((s) => s.availabilityZone === q.availability_zone);
    if (q.key_name) rows = rows.filter((s) => s.keyName === q.key_name);
    if (q['changes-since']) {
      const since = Date.parse(q['changes-since']);
      rows = rows.filter((s) => Date.parse(s.updated) >= since);
    }
    if (q.ip) {
      const re = safeRegex(q.ip);
      rows = rows.filter((s) =>
        network()
          .serverPorts(s.id)
          .some((p) => p.fixedIps.some((f) => re.test(f.ip_address))),
      );
    }
    rows.sort((a, x) => (a.created < x.created ? 1 : a.created > x.created ? -1 : 0));
    if (q.marker) {
      const i = rows.findIndex((s) => s.id === q.marker);
      if (i < 0) throw new NovaFault(400, `marker [${q.marker}] not found`);
      rows = rows.slice(i + 1);
    }
    if (q.limit) rows = rows.slice(0, Number(q.limit));
    res.json({
      servers: rows.map((s) =>
        detail ? serverView(res, s) : { id: s.id, name: s.name, links: link('servers', s.id) },
      ),
    });
  };
  api.get('/servers', (req, res) => listServers(req, res, false));
  api.get('/servers/detail', (req, res) => listServers(req, res, true));
  api.get('/servers/:id', (req, res) => {
    res.json({ server: serverView(res, findServer(callerOf(res), req.params.id as string)) });
  });
  api.put('/servers/:id', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const b = (req.body as { server?: Record<string, unknown> })?.server ?? {};
    if (typeof b.name === 'string') s.name = b.name;
    if ('description' in b && atLeast(res, 19)) s.description = (b.description as string | null) ?? null;
    store.touch(s);
    res.json({ server: serverView(res, s) });
  });
  api.delete('/servers/:id', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    if (s.taskState !== 'deleting') store.delete(s);
    res.status(204).end();
  });
}

function safeRegex(s: string): RegExp {
  try {
    return new RegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}
