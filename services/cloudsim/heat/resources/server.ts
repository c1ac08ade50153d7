/**
 * OS::Nova::Server — POST /v2.1/servers, complete when ACTIVE, failed on
 * ERROR with the server's fault. `image`/`flavor` accept names or ids,
 * `networks` entries `network` (name or id) / `port` / `fixed_ip`,
 * `security_groups` names or ids, `block_device_mapping_v2` in Heat's form.
 * Attributes: first_address, networks ({net name: [ips]}), addresses, show...
 */
import { physicalName, type ResourceContext, ResourceFailure, type ResourceType } from './types.js';

type Server = {
  server: Record<string, unknown> & {
    id: string;
    status: string;
    addresses?: Record<string, Array<{ addr: string; version?: number }>>;
  };
};

async function flavorId(ctx: ResourceContext, ref: unknown): Promise<string> {
  const value = String(ref);
  const byId = await ctx.api.call<{ flavor: { id: string } }>(
    'compute',
    'GET',
    `/flavors/${encodeURIComponent(value)}`,
    undefined,
    [404],
  );
  if (byId.status !== 404) return byId.body.flavor.id;
  const all = await ctx.api.call<{ flavors: Array<{ id: string; name: string }> }>(
    'compute',
    'GET',
    '/flavors/detail',
  );
  const f = all.body.flavors.find((x) => x.name === value);
  if (!f) throw new ResourceFailure('EntityNotFound', `The Flavor ID (${value}) could not be found.`);
  return f.id;
}

async function imageId(ctx: ResourceContext, ref: unknown): Promise<string> {
  const value = String(ref);
  if (!ctx.api.has('image') || /^[0-9a-f-]{36}$/i.test(value)) return value;
  const r = await ctx.api.call<{ images: Array<{ id: string }> }>(
    'image',
    'GET',
    `/images?name=${encodeURIComponent(value)}`,
  );
  if (r.body.images.length !== 1)
    throw new ResourceFailure('EntityNotFound', `The Image (${value}) could not be found.`);
  return r.body.images[0].id;
}

function mapping(
  ctx: ResourceContext,
  b: Record<string, unknown>,
  resolveImage: (x: unknown) => Promise<string>,
) {
  return (async () => {
    const out: Record<string, unknown> = {};
    for (const k of [
      'device_name',
      'boot_index',
      'delete_on_termination',
      'disk_bus',
      'device_type',
      'volume_size',
      'guest_format',
      'volume_type',
    ])
      if (b[k] !== undefined && b[k] !== null) out[k] = b[k];
    if (b.volume_id)
      Object.assign(out, { uuid: b.volume_id, source_type: 'volume', destination_type: 'volume' });
    else if (b.snapshot_id)
      Object.assign(out, { uuid: b.snapshot_id, source_type: 'snapshot', destination_type: 'volume' });
    else if (b.image ?? b.image_id)
      Object.assign(out, {
        uuid: await resolveImage(b.image ?? b.image_id),
        source_type: 'image',
        destination_type: b.volume_size ? 'volume' : 'local',
      });
    else if (b.swap_size)
      Object.assign(out, {
        source_type: 'blank',
        destination_type: 'local',
        guest_format: 'swap',
        volume_size: b.swap_size,
      });
    else Object.assign(out, { source_type: 'blank', destination_type: 'volume' });
    if (out.boot_index === undefined && out.source_type !== 'blank') out.boot_index = 0;
    void ctx;
    return out;
  })();
}

export const server: ResourceType = {
  properties: {
    name: {},
    image: {},
    flavor: { required: true },
    key_name: {},
    networks: {},
    security_groups: {},
    block_device_mapping: {},
    block_device_mapping_v2: {},
    availability_zone: {},
    metadata: {},
    user_data: {},
    user_data_format: {},
    config_drive: {},
    scheduler_hints: {},
    admin_pass: {},
    tags: {},
    software_config_transport: {},
  },
  async create(ctx, props) {
    const server: Record<string, unknown> = {
      name: physicalName(ctx, props.name),
      flavorRef: await flavorId(ctx, props.flavor),
    };
    if (props.image) server.imageRef = await imageId(ctx, props.image);
    if (props.key_name) server.key_name = props.key_name;
    if (props.availability_zone) server.availability_zone = props.availability_zone;
    if (props.metadata)
      server.metadata = Object.fromEntries(
        Object.entries(props.metadata as object).map(([k, v]) => [k, String(v)]),
      );
    if (props.user_data) server.user_data = Buffer.from(String(props.user_data)).toString('base64');
    if (props.config_drive !== undefined) server.config_drive = props.config_drive;
    if (props.admin_pass) server.adminPass = props.admin_pass;
    if (Array.isArray(props.security_groups))
      server.security_groups = props.security_groups.map((g) => ({ name: String(g) }));
    const nets = Array.isArray(props.networks) ? (props.networks as Array<Record<string, unknown>>) : [];
    const allocate = nets.find((n) => n.allocate_network)?.allocate_network;
    if (allocate) server.networks = String(allocate);
    else if (nets.length) {
      server.networks = await Promise.all(
        nets.map(async (n) => {
          if (n.port) return { port: String(n.port) };
          const net: Record<string, unknown> = {
            uuid: await ctx.api.neutronId('network', n.network ?? n.uuid),
          };
          if (n.fixed_ip) net.fixed_ip = n.fixed_ip;
          return net;
        }),
      );
    } else server.networks = 'auto'; // Nova >= 2.37 needs a choice; Heat's default is to let Nova allocate.
    if (Array.isArray(props.block_device_mapping_v2))
      server.block_device_mapping_v2 = await Promise.all(
        (props.block_device_mapping_v2 as Array<Record<string, unknown>>).map((b) =>
          mapping(ctx, b, (x) => imageId(ctx, x)),
        ),
      );
    if (Array.isArray(props.block_device_mapping))
      server.block_device_mapping_v2 = (props.block_device_mapping as Array<Record<string, unknown>>).map(
        (b) => ({
          device_name: b.device_name,
          uuid: b.volume_id ?? b.snapshot_id,
          source_type: b.volume_id ? 'volume' : 'snapshot',
          destination_type: 'volume',
          boot_index: 0,
          delete_on_termination: b.delete_on_termination ?? false,
        }),
      );
    const r = await ctx.api.call<Server>('compute', 'POST', '/servers', {
      server,
      ...(props.scheduler_hints ? { 'os:scheduler_hints': props.scheduler_hints } : {}),
    });
    return r.body.server.id;
  },
  async checkCreateComplete(ctx, id) {
    const s = (await ctx.api.call<Server>('compute', 'GET', `/servers/${id}`)).body.server;
    if (s.status === 'ACTIVE') return true;
    if (s.status === 'ERROR') {
      const fault = (s.fault as { message?: string; code?: number } | undefined) ?? {};
      throw new ResourceFailure(
        'ResourceInError',
        `Went to status ERROR due to "Message: ${fault.message ?? 'Unknown'}, Code: ${fault.code ?? 'Unknown'}"`,
      );
    }
    return false;
  },
  async delete(ctx, id) {
    await ctx.api.call('compute', 'DELETE', `/servers/${id}`, undefined, [404]);
  },
  async checkDeleteComplete(ctx, id) {
    const r = await ctx.api.call<Server>('compute', 'GET', `/servers/${id}`, undefined, [404]);
    if (r.status === 404 || r.body.server.status === 'DELETED' || r.body.server.status === 'SOFT_DELETED')
      return true;
    if (r.body.server.status === 'ERROR')
      throw new ResourceFailure('ResourceInError', 'Server went to status ERROR while deleting');
    return false;
  },
  async show(ctx, id) {
    return (await ctx.api.call<Server>('compute', 'GET', `/servers/${id}`)).body.server;
  },
  async attribute(ctx, id, name) {
    const s = (await ctx.api.call<Server>('compute', 'GET', `/servers/${id}`)).body.server;
    const addresses = s.addresses ?? {};
    switch (name) {
      case 'first_address': {
        // Heat's (deprecated) first_address: the first IPv4 of the first network.
        for (const list of Object.values(addresses)) {
          const a = list.find((x) => x.version !== 6) ?? list[0];
          if (a) return a.addr;
        }
        return '';
      }
      case 'networks':
        return Object.fromEntries(
          Object.entries(addresses).map(([net, list]) => [net, list.map((a) => a.addr)]),
        );
      case 'addresses':
        return addresses;
      case 'instance_name':
        return s['OS-EXT-SRV-ATTR:instance_name'] ?? s.name;
      case 'accessIPv4':
        return s.accessIPv4 ?? '';
    }
    return undefined;
  },
};
