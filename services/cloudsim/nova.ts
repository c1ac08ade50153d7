/**
 * Simulated Nova (Compute API v2.1, catalog type `compute`, microversions up
 * to 2.79): flavors, key pairs, availability zones, servers with their
 * actions (start/stop, pause/unpause, reboot, createImage), volume
 * attachments, interfaces and metadata. Addresses come from the site's
 * Neutron, root disks from the site's Glance image bytes, snapshots go back
 * into Glance, volumes are attached through Cinder. A project sees its own
 * servers; admin may list all with `all_tenants`. Errors use Nova's body,
 * e.g. {"itemNotFound": {"code": 404, "message": "..."}}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ImageServiceApi, NetworkServiceApi, SimImage, VolumeServiceApi } from './contracts.js';
import { devstackFlavors, type SimFlavor } from './nova-flavors.js';
import { generateSshKey, importedFingerprint } from './nova-keys.js';
import { atLeast, MAX_MICROVERSION, novaMicroversion } from './nova-microversion.js';
import {
  COMPUTE_HOST,
  isoNow,
  type NetworkRequest,
  NovaFault,
  POWER,
  ServerStore,
  type ServerVolume,
  type SimServer,
  serverStatus,
} from './nova-servers.js';
import { callerOf, type SimCaller } from './sim-auth.js';
import type { SimService, SiteContext } from './site.js';

const FAULT_KEYS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  500: 'computeFault',
  501: 'notImplemented',
};

function novaFault(res: Response, status: number, message: string): void {
  res.status(status).json({ [FAULT_KEYS[status] ?? 'computeFault']: { code: status, message } });
}

/**
 * Glance's queued-image pair (added to ImageServiceApi by the storage work): when the site's
 * image service has it, createImage answers before the upload, as Nova does.
 */
interface QueuedImageApi {
  createQueuedImage(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      properties?: Record<string, string>;
    },
  ): SimImage;
  uploadImageFromFile(id: string, filePath: string): Promise<SimImage>;
}

interface SimKeypair {
  id: number;
  name: string;
  userId: string;
  publicKey: string;
  fingerprint: string;
  type: string;
  created: string;
}

export interface NovaOptions {
  /** How long each asynchronous step (build, power action, delete) takes. Default 150 ms. */
  stepDelayMs?: number;
}

export interface NovaService extends SimService {
  servers: ServerStore;
  flavors: Map<string, SimFlavor>;
}

export function createNovaService(opts: NovaOptions = {}) {
  return (site: SiteContext): NovaService => novaServiceWith(site, opts);
}

export const novaService = createNovaService();

function novaServiceWith(site: SiteContext, opts: NovaOptions): NovaService {
  const store = new ServerStore(site, join(site.dataDir, 'nova'), opts.stepDelayMs ?? 150);
  const flavors = new Map(devstackFlavors().map((f) => [f.id, f]));
  const keypairs = new Map<string, SimKeypair>();
  let keypairCounter = 0;
  const network = () => site.service<NetworkServiceApi>('network');
  const images = () => site.service<ImageServiceApi>('image');
  const volumes = () => site.service<VolumeServiceApi>('volumev3');
  const computeUrl = () => `${site.endpoint('compute')}/v2.1`;

  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  router.get('/', (_req, res) => {
    res.json({ versions: [versionDoc()] });
  });
  const versionDoc = () => ({
    id: 'v2.1',
    status: 'CURRENT',
    version: `2.${MAX_MICROVERSION}`,
    min_version: '2.1',
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${computeUrl()}/` }],
  });

  const api = express.Router();
  router.use('/v2.1', novaMicroversion(novaFault), api);
  api.get('/', (_req, res) => {
    res.json({ version: versionDoc() });
  });
  api.use(site.auth);

  const link = (kind: string, id: string) => [
    { rel: 'self', href: `${computeUrl()}/${kind}/${id}` },
    { rel: 'bookmark', href: `${site.endpoint('compute')}/${kind}/${id}` },
  ];

  // ---- flavors --------------------------------------------------------------------------------

  const flavorView = (res: Response, f: SimFlavor, detail: boolean) => {
    const v: Record<string, unknown> = { id: f.id, name: f.name, links: link('flavors', f.id) };
    if (atLeast(res, 55)) v.description = f.description;
    if (!detail) return v;
    Object.assign(v, {
      ram: f.ram,
      disk: f.disk,
      vcpus: f.vcpus,
      swap: atLeast(res, 75) ? f.swap : f.swap || '',
      'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
      'OS-FLV-DISABLED:disabled': false,
      rxtx_factor: f.rxtx_factor,
      'os-flavor-access:is_public': f.is_public,
    });
    if (atLeast(res, 61)) v.extra_specs = f.extra_specs;
    return v;
  };
  const findFlavor = (ref: string): SimFlavor | undefined => flavors.get(ref.replace(/^.*\//, ''));

  api.get('/flavors', (_req, res) => {
    res.json({ flavors: [...flavors.values()].map((f) => flavorView(res, f, false)) });
  });
  api.get('/flavors/detail', (_req, res) => {
    res.json({ flavors: [...flavors.values()].map((f) => flavorView(res, f, true)) });
  });
  api.get('/flavors/:id', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    res.json({ flavor: flavorView(res, f, true) });
  });

  // Clients before 2.61 (python-openstackclient's `flavor list`) read extra specs from here.
  api.get('/flavors/:id/os-extra_specs', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    res.json({ extra_specs: f.extra_specs });
  });
  api.get('/flavors/:id/os-extra_specs/:key', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    const k = req.params.key as string;
    if (!(k in f.extra_specs)) throw new NovaFault(404, `Flavor ${f.id} has no extra specs with key ${k}.`);
    res.json({ [k]: f.extra_specs[k] });
  });

  // ---- key pairs (per user) -------------------------------------------------------------------

  const keyOf = (userId: string, name: string) => `${userId}/${name}`;
  const findKeypair = (c: SimCaller, name: string): SimKeypair => {
    const k = keypairs.get(keyOf(c.userId, name));
    if (!k) throw new NovaFault(404, `Keypair ${name} not found for user ${c.userId}`);
    return k;
  };
  api.get('/os-keypairs', (_req, res) => {
    const c = callerOf(res);
    const mine = [...keypairs.values()].filter((k) => k.userId === c.userId);
    res.json({
      keypairs: mine.map((k) => ({
        keypair: {
          name: k.name,
          public_key: k.publicKey,
          fingerprint: k.fingerprint,
          ...(atLeast(res, 2) ? { type: k.type } : {}),
        },
      })),
    });
  });
  api.post('/os-keypairs', (req, res) => {
    const c = callerOf(res);
    const b = (req.body as { keypair?: Record<string, unknown> })?.keypair;
    if (!b || typeof b.name !== 'string' || !/^[\w .@-]{1,255}$/.test(b.name))
      throw new NovaFault(
        400,
        "Invalid input for field/attribute keypair. Value: name. 'name' is a required property",
      );
    if (keypairs.has(keyOf(c.userId, b.name)))
      throw new NovaFault(409, `Key pair '${b.name}' already exists.`);
    const type = typeof b.type === 'string' ? b.type : 'ssh';
    let publicKey: string;
    let fp: string;
    let privateKey: string | undefined;
    if (typeof b.public_key === 'string') {
      const f = importedFingerprint(b.public_key);
      if (!f) throw new NovaFault(400, 'Keypair data is invalid: failed to generate fingerprint');
      publicKey = b.public_key.trim();
      fp = f;
    } else {
      if (atLeast(res, 92)) throw new NovaFault(400, "'public_key' is a required property");
      const g = generateSshKey(`Generated-by-Nova`);
      publicKey = g.publicKey;
      privateKey = g.privateKey;
      fp = g.fingerprint;
    }
    const k: SimKeypair = {
      id: ++keypairCounter,
      name: b.name,
      userId: c.userId,
      publicKey,
      fingerprint: fp,
      type,
      created: isoNow(),
    };
    keypairs.set(keyOf(c.userId, b.name), k);
    const view: Record<string, unknown> = {
      name: k.name,
      public_key: k.publicKey,
      fingerprint: k.fingerprint,
      user_id: k.userId,
    };
    if (privateKey) view.private_key = privateKey;
    if (atLeast(res, 2)) view.type = k.type;
    res.status(atLeast(res, 2) ? 201 : 200).json({ keypair: view });
  });
  api.get('/os-keypairs/:name', (req, res) => {
    const k = findKeypair(callerOf(res), req.params.name as string);
    res.json({
      keypair: {
        id: k.id,
        name: k.name,
        public_key: k.publicKey,
        fingerprint: k.fingerprint,
        user_id: k.userId,
        created_at: k.created,
        updated_at: null,
        deleted: false,
        deleted_at: null,
        ...(atLeast(res, 2) ? { type: k.type } : {}),
      },
    });
  });
  api.delete('/os-keypairs/:name', (req, res) => {
    const c = callerOf(res);
    findKeypair(c, req.params.name as string);
    keypairs.delete(keyOf(c.userId, req.params.name as string));
    res.status(atLeast(res, 2) ? 204 : 202).end();
  });

  // ---- availability zones ---------------------------------------------------------------------

  api.get('/os-availability-zone', (_req, res) => {
    res.json({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] });
  });
  api.get('/os-availability-zone/detail', (_req, res) => {
    if (!callerOf(res).isAdmin)
      throw new NovaFault(
        403,
        'Policy does not allow os_compute_api:os-availability-zone:detail to be performed.',
      );
    res.json({
      availabilityZoneInfo: [
        {
          zoneName: 'nova',
          zoneState: { available: true },
          hosts: {
            [COMPUTE_HOST]: { 'nova-compute': { available: true, active: true, updated_at: isoNow() } },
          },
        },
        {
          zoneName: 'internal',
          zoneState: { available: true },
          hosts: {
            [COMPUTE_HOST]: { 'nova-conductor': { available: true, active: true, updated_at: isoNow() } },
          },
        },
      ],
    });
  });

  // ---- servers --------------------------------------------------------------------------------

  const findServer = (c: SimCaller, id: string): SimServer => {
    const s = store.servers.get(id);
    if (!s || (!c.isAdmin && s.projectId !== c.projectId))
      throw new NovaFault(404, `Instance ${id} could not be found.`);
    return s;
  };

  const addresses = (s: SimServer) => {
    const out: Record<string, Array<Record<string, unknown>>> = {};
    for (const p of network().serverPorts(s.id)) {
      const list = out[p.networkName] ?? [];
      out[p.networkName] = list;
      for (const f of p.fixedIps)
        list.push({
          version: 4,
          addr: f.ip_address,
          'OS-EXT-IPS:type': 'fixed',
          'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
        });
      for (const fip of p.floatingIps)
        list.push({
          version: 4,
          addr: fip,
          'OS-EXT-IPS:type': 'floating',
          'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
        });
    }
    return out;
  };

  const serverView = (res: Response, s: SimServer): Record<string, unknown> => {
    const c = callerOf(res);
    const status = serverStatus(s);
    const flavor = atLeast(res, 47)
      ? {
          vcpus: s.flavor.vcpus,
          ram: s.flavor.ram,
          disk: s.flavor.disk,
          ephemeral: s.flavor.ephemeral,
          swap: s.flavor.swap,
          original_name: s.flavor.name,
          extra_specs: s.flavor.extra_specs,
        }
      : {
          id: s.flavor.id,
          links: [{ rel: 'bookmark', href: `${site.endpoint('compute')}/flavors/${s.flavor.id}` }],
        };
    const groups = s.vmState === 'building' && s.securityGroups.length === 0 ? [] : portGroups(s);
    const v: Record<string, unknown> = {
      id: s.id,
      name: s.name,
      status,
      tenant_id: s.projectId,
      user_id: s.userId,
      metadata: s.metadata,
      hostId:
        s.vmState === 'building' && s.taskState === 'scheduling'
          ? ''
          : createHash('sha224')
              .update(s.projectId + COMPUTE_HOST)
              .digest('hex'),
      image: s.imageId
        ? {
            id: s.imageId,
            links: [{ rel: 'bookmark', href: `${site.endpoint('compute')}/images/${s.imageId}` }],
          }
        : '',
      flavor,
      created: s.created,
      updated: s.updated,
      addresses: addresses(s),
      accessIPv4: '',
      accessIPv6: '',
      links: link('servers', s.id),
      'OS-DCF:diskConfig': 'MANUAL',
      progress: 0,
      'OS-EXT-AZ:availability_zone':
        s.vmState === 'building' && s.taskState === 'scheduling' ? '' : s.availabilityZone,
      config_drive: '',
      key_name: s.keyName,
      'OS-SRV-USG:launched_at': s.launchedAt,
      'OS-SRV-USG:terminated_at': null,
      'OS-EXT-STS:task_state': s.taskState,
      'OS-EXT-STS:vm_state': s.vmState,
      'OS-EXT-STS:power_state': s.powerState,
      'os-extended-volumes:volumes_attached': s.volumes.map((vol) => ({
        id: vol.volumeId,
        ...(atLeast(res, 3) ? { delete_on_termination: vol.deleteOnTermination } : {}),
      })),
      security_groups: groups.map((name) => ({ name })),
    };
    if (status !== 'ACTIVE' && status !== 'BUILD') delete v.progress;
    if (s.fault && s.vmState === 'error') v.fault = s.fault;
    if (atLeast(res, 9)) v.locked = false;
    if (atLeast(res, 19)) v.description = s.description;
    if (atLeast(res, 26)) v.tags = s.tags;
    if (atLeast(res, 73)) v.locked_reason = null;
    if (atLeast(res, 63)) v.trusted_image_certificates = null;
    if (c.isAdmin) {
      Object.assign(v, {
        'OS-EXT-SRV-ATTR:host':
          s.vmState === 'building' && s.taskState === 'scheduling' ? null : COMPUTE_HOST,
        'OS-EXT-SRV-ATTR:hypervisor_hostname':
          s.vmState === 'building' && s.taskState === 'scheduling' ? null : COMPUTE_HOST,
        'OS-EXT-SRV-ATTR:instance_name': s.instanceName,
      });
      if (atLeast(res, 3)) {
        Object.assign(v, {
          'OS-EXT-SRV-ATTR:hostname': s.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
          'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
          'OS-EXT-SRV-ATTR:user_data': s.userData,
          'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`,
          'OS-EXT-SRV-ATTR:launch_index': 0,
          'OS-EXT-SRV-ATTR:kernel_id': '',
          'OS-EXT-SRV-ATTR:ramdisk_id': '',
        });
      }
    }
    return v;
  };

  /** Security group names as Nova shows them: the groups of the server's ports (or the ones asked for while building). */
  const portGroups = (s: SimServer): string[] => {
    const ports = network().serverPorts(s.id);
    if (ports.length === 0) return s.securityGroups;
    return [...new Set(ports.flatMap((p) => p.securityGroups))];
  };

  const visibleImage = (c: SimCaller, id: string) => {
    const img = images().getImage(id);
    if (!img || img.status === 'deleted') return undefined;
    if (img.owner !== c.projectId && img.visibility === 'private' && !c.isAdmin) return undefined;
    return img;
  };

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
    if (keyName && !keypairs.has(keyOf(c.userId, keyName)))
      throw new NovaFault(400, 'Invalid key_name provided.');
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

  // ---- actions --------------------------------------------------------------------------------

  const requireState = (s: SimServer, action: string, states: SimServer['vmState'][]) => {
    if (s.taskState)
      throw new NovaFault(
        409,
        `Cannot '${action}' instance ${s.id} while it is in task_state ${s.taskState}`,
      );
    if (!states.includes(s.vmState))
      throw new NovaFault(409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  };

  api.post('/servers/:id/action', async (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const action = Object.keys(body)[0];
    switch (action) {
      case 'os-start':
        requireState(s, 'start', ['stopped']);
        store.transition(s, 'powering-on', 'active', POWER.RUNNING);
        break;
      case 'os-stop':
        requireState(s, 'stop', ['active', 'error', 'paused']);
        store.transition(s, 'powering-off', 'stopped', POWER.SHUTDOWN);
        break;
      case 'pause':
        requireState(s, 'pause', ['active']);
        store.transition(s, 'pausing', 'paused', POWER.PAUSED);
        break;
      case 'unpause':
        requireState(s, 'unpause', ['paused']);
        store.transition(s, 'unpausing', 'active', POWER.RUNNING);
        break;
      case 'reboot': {
        const type = String(body.reboot?.type ?? '').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD')
          throw new NovaFault(
            400,
            'Invalid input for field/attribute type. Value: ' +
              `${type}. '${type}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
          );
        requireState(s, 'reboot', type === 'HARD' ? ['active', 'stopped', 'paused', 'error'] : ['active']);
        store.transition(s, type === 'HARD' ? 'rebooting_hard' : 'rebooting', 'active', POWER.RUNNING);
        break;
      }
      case 'createImage': {
        const b = body.createImage ?? {};
        if (typeof b.name !== 'string' || b.name === '')
          throw new NovaFault(
            400,
            "Invalid input for field/attribute createImage. 'name' is a required property",
          );
        requireState(s, 'createImage', ['active', 'stopped', 'paused']);
        const imageId = await snapshot(c, s, b.name, (b.metadata ?? {}) as Record<string, string>);
        if (atLeast(res, 45)) res.status(202).json({ image_id: imageId });
        else
          res
            .status(202)
            .location(`${site.endpoint('image')}/v2/images/${imageId}`)
            .end();
        return;
      }
      default:
        throw new NovaFault(400, `There is no such action: ${action ?? ''}`);
    }
    res.status(202).end();
  });

  /**
   * createImage: an image-backed server's disk bytes become an active Glance
   * image with Nova's snapshot properties. A volume-backed server gets an
   * image without data whose block_device_mapping describes its volumes
   * (real Nova also snapshots those volumes in Cinder; see docs).
   */
  const snapshot = async (
    c: SimCaller,
    s: SimServer,
    name: string,
    metadata: Record<string, string>,
  ): Promise<string> => {
    const base = s.imageId ? images().getImage(s.imageId) : undefined;
    const properties: Record<string, string> = {
      ...(base?.properties ?? {}),
      ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)])),
      image_type: 'snapshot',
      instance_uuid: s.id,
      base_image_ref: s.imageId ?? '',
      owner_project_name: c.projectName,
      owner_user_name: c.userName,
      user_id: c.userId,
      image_location: 'snapshot',
      boot_roles: c.roles.join(','),
    };
    s.taskState = 'image_snapshot';
    const fields = {
      name,
      disk_format: base?.disk_format ?? 'raw',
      container_format: base?.container_format ?? 'bare',
      properties,
    };
    const glance = images() as ImageServiceApi & Partial<QueuedImageApi>;
    const disk = s.diskPath;
    if (disk && glance.createQueuedImage && glance.uploadImageFromFile) {
      // Like Nova: the image record (queued) first, the answer, then the upload from the compute host.
      const upload = glance.uploadImageFromFile.bind(glance);
      const img = glance.createQueuedImage(s.projectId, fields);
      s.taskState = 'image_pending_upload';
      store.later(s.id, async () => {
        s.taskState = 'image_uploading';
        try {
          await upload(img.id, disk);
        } catch {
          // Glance marks the image killed; the server itself carries on, as in Nova.
        } finally {
          s.taskState = null;
          store.touch(s);
        }
      });
      return img.id;
    }
    try {
      if (disk) {
        const img = await images().createImageFromFile(s.projectId, fields, disk);
        return img.id;
      }
      const tmp = await mkdtemp(join(tmpdir(), 'nova-bfv-'));
      try {
        await writeFile(join(tmp, 'empty'), '');
        properties.bdm_v2 = 'True';
        properties.root_device_name = '/dev/vda';
        properties.block_device_mapping = JSON.stringify(
          s.volumes.map((v) => ({
            boot_index: v.root ? 0 : null,
            source_type: 'volume',
            destination_type: 'volume',
            volume_id: v.volumeId,
            device_name: v.device,
            delete_on_termination: v.deleteOnTermination,
            tag: v.tag,
          })),
        );
        const img = await images().createImageFromFile(
          s.projectId,
          { name, disk_format: 'raw', container_format: 'bare', properties },
          join(tmp, 'empty'),
        );
        return img.id;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } finally {
      s.taskState = null;
      store.touch(s);
    }
  };

  // ---- volume attachments ---------------------------------------------------------------------

  const attachmentView = (res: Response, s: SimServer, v: ServerVolume) => ({
    id: v.volumeId,
    serverId: s.id,
    volumeId: v.volumeId,
    device: v.device,
    ...(atLeast(res, 70) ? { tag: v.tag } : {}),
    ...(atLeast(res, 79) ? { delete_on_termination: v.deleteOnTermination } : {}),
  });
  const attachable: SimServer['vmState'][] = ['active', 'stopped', 'paused'];

  api.get('/servers/:id/os-volume_attachments', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    res.json({ volumeAttachments: s.volumes.map((v) => attachmentView(res, s, v)) });
  });
  api.get('/servers/:id/os-volume_attachments/:volumeId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const v = s.volumes.find((x) => x.volumeId === req.params.volumeId);
    if (!v) throw new NovaFault(404, `Volume ${req.params.volumeId} is not attached to server ${s.id}`);
    res.json({ volumeAttachment: attachmentView(res, s, v) });
  });
  api.post('/servers/:id/os-volume_attachments', (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const b = (req.body as { volumeAttachment?: Record<string, unknown> })?.volumeAttachment;
    if (!b || typeof b.volumeId !== 'string')
      throw new NovaFault(
        400,
        "Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property",
      );
    requireState(s, 'attach_volume', attachable);
    const vol = volumes().getVolume(b.volumeId);
    if (!vol || (vol.project_id !== c.projectId && !c.isAdmin))
      throw new NovaFault(404, `Volume ${b.volumeId} could not be found.`);
    if (s.volumes.some((v) => v.volumeId === vol.id))
      throw new NovaFault(409, `Volume ${vol.id} is already attached to the instance ${s.id}`);
    if (vol.status !== 'available')
      throw new NovaFault(
        400,
        `Invalid volume: volume ${vol.id} status must be available, but current status is: ${vol.status}`,
      );
    const device = typeof b.device === 'string' && b.device ? b.device : store.nextDevice(s);
    try {
      volumes().attach(vol.id, s.id, device);
    } catch (e) {
      throw new NovaFault(400, `Invalid volume: ${(e as Error).message}`);
    }
    const v: ServerVolume = {
      volumeId: vol.id,
      device,
      deleteOnTermination: b.delete_on_termination === true,
      tag: typeof b.tag === 'string' ? b.tag : null,
      root: false,
    };
    s.volumes.push(v);
    store.touch(s);
    res.json({ volumeAttachment: attachmentView(res, s, v) });
  });
  api.delete('/servers/:id/os-volume_attachments/:volumeId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const v = s.volumes.find((x) => x.volumeId === req.params.volumeId);
    if (!v) throw new NovaFault(404, `Volume ${req.params.volumeId} is not attached to server ${s.id}`);
    if (v.root) throw new NovaFault(400, 'Cannot detach a root device volume');
    requireState(s, 'detach_volume', attachable);
    volumes().detach(v.volumeId, s.id);
    s.volumes = s.volumes.filter((x) => x !== v);
    store.touch(s);
    res.status(202).end();
  });

  // ---- interfaces -----------------------------------------------------------------------------

  const interfaceView = (res: Response, p: ReturnType<NetworkServiceApi['serverPorts']>[number]) => ({
    port_state: p.status,
    fixed_ips: p.fixedIps,
    mac_addr: p.macAddress,
    net_id: p.networkId,
    port_id: p.portId,
    ...(atLeast(res, 70) ? { tag: null } : {}),
  });
  api.get('/servers/:id/os-interface', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    res.json({
      interfaceAttachments: network()
        .serverPorts(s.id)
        .map((p) => interfaceView(res, p)),
    });
  });
  api.get('/servers/:id/os-interface/:portId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === req.params.portId);
    if (!p) throw new NovaFault(404, `Port ${req.params.portId} is not attached`);
    res.json({ interfaceAttachment: interfaceView(res, p) });
  });
  api.post('/servers/:id/os-interface', (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const b = (req.body as { interfaceAttachment?: Record<string, unknown> })?.interfaceAttachment ?? {};
    requireState(s, 'attach_interface', attachable);
    let request: { networkId?: string; portId?: string; fixedIp?: string };
    if (typeof b.port_id === 'string') {
      const p = network().findPort(b.port_id);
      if (!p || (p.projectId !== c.projectId && !c.isAdmin))
        throw new NovaFault(404, `Port ${b.port_id} could not be found.`);
      if (p.deviceId) throw new NovaFault(409, `Port ${b.port_id} is still in use.`);
      request = { portId: b.port_id };
    } else {
      const netId = typeof b.net_id === 'string' ? b.net_id : network().usableNetworks(c.projectId)[0]?.id;
      if (!netId || !network().findNetwork(c.projectId, netId))
        throw new NovaFault(404, `Network ${String(netId)} could not be found.`);
      const fixed = Array.isArray(b.fixed_ips)
        ? (b.fixed_ips as Array<{ ip_address?: string }>)[0]?.ip_address
        : undefined;
      request = { networkId: netId, fixedIp: fixed };
    }
    let bound: ReturnType<NetworkServiceApi['bindPort']>;
    try {
      bound = network().bindPort(s.projectId, s.id, request);
    } catch (e) {
      const status = (e as { status?: number }).status;
      throw new NovaFault(status === 409 ? 409 : 400, (e as Error).message);
    }
    store.touch(s);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === bound.portId);
    res.json({ interfaceAttachment: p ? interfaceView(res, p) : {} });
  });
  api.delete('/servers/:id/os-interface/:portId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    requireState(s, 'detach_interface', attachable);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === req.params.portId);
    if (!p) throw new NovaFault(404, `Port ${req.params.portId} is not attached`);
    network().releasePort(s.id, p.portId);
    store.touch(s);
    res.status(202).end();
  });

  // ---- metadata -------------------------------------------------------------------------------

  const metadataBody = (req: Request, key: 'metadata' | 'meta'): Record<string, string> => {
    const m = (req.body as Record<string, unknown> | undefined)?.[key];
    if (typeof m !== 'object' || m === null || Object.values(m).some((v) => typeof v !== 'string'))
      throw new NovaFault(400, `Invalid input for field/attribute ${key}. Values must be strings.`);
    return m as Record<string, string>;
  };
  api.get('/servers/:id/metadata', (req, res) => {
    res.json({ metadata: findServer(callerOf(res), req.params.id as string).metadata });
  });
  api.post('/servers/:id/metadata', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    s.metadata = { ...s.metadata, ...metadataBody(req, 'metadata') };
    store.touch(s);
    res.json({ metadata: s.metadata });
  });
  api.put('/servers/:id/metadata', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    s.metadata = { ...metadataBody(req, 'metadata') };
    store.touch(s);
    res.json({ metadata: s.metadata });
  });
  api.get('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const k = req.params.key as string;
    if (!(k in s.metadata)) throw new NovaFault(404, 'Metadata item was not found');
    res.json({ meta: { [k]: s.metadata[k] } });
  });
  api.put('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const meta = metadataBody(req, 'meta');
    const k = req.params.key as string;
    if (Object.keys(meta).length !== 1 || !(k in meta))
      throw new NovaFault(400, 'Request body and URI mismatch');
    s.metadata[k] = meta[k];
    store.touch(s);
    res.json({ meta: { [k]: meta[k] } });
  });
  api.delete('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const k = req.params.key as string;
    if (!(k in s.metadata)) throw new NovaFault(404, 'Metadata item was not found');
    delete s.metadata[k];
    store.touch(s);
    res.status(204).end();
  });

  router.use((_req: Request, res: Response) => novaFault(res, 404, 'The resource could not be found.'));
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NovaFault) return novaFault(res, err.status, err.message);
    const e = err as { type?: string; message?: string };
    if (e?.type === 'entity.parse.failed') return novaFault(res, 400, 'Malformed request body');
    novaFault(
      res,
      500,
      'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.',
    );
  });

  return {
    type: 'compute',
    name: 'nova',
    router,
    servers: store,
    flavors,
    catalogUrl: (base) => `${base}/v2.1`,
    async stop() {
      store.stop();
    },
  };
}

function safeRegex(s: string): RegExp {
  try {
    return new RegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}
