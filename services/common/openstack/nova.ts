/**
 * Nova (Compute API v2.1) client: flavors, key pairs, availability zones,
 * servers and their actions, volume attachments, interfaces, metadata.
 * Every call asks for one microversion (2.79 unless told otherwise) in both
 * the modern and the legacy header, so the shapes below are the 2.79 ones.
 * https://docs.openstack.org/api-ref/compute/
 */
import type { EndpointInterface } from './catalog.js';
import type { KeystoneSession, RequestOptions } from './session.js';
import { waitFor } from './wait.js';

export interface Flavor {
  id: string;
  name: string;
  ram: number;
  disk: number;
  vcpus: number;
  swap: number | string;
  'OS-FLV-EXT-DATA:ephemeral': number;
  'os-flavor-access:is_public': boolean;
  description?: string | null;
  extra_specs?: Record<string, string>;
}

/** GET /limits `absolute`; -1 means unlimited. */
export interface AbsoluteLimits {
  maxTotalInstances: number;
  maxTotalCores: number;
  maxTotalRAMSize: number;
  totalInstancesUsed: number;
  totalCoresUsed: number;
  totalRAMUsed: number;
  [key: string]: number;
}

export interface Keypair {
  name: string;
  public_key: string;
  fingerprint: string;
  type?: string;
  user_id?: string;
  /** Only in the answer to a create without public_key. */
  private_key?: string;
  created_at?: string;
}

export interface AvailabilityZone {
  zoneName: string;
  zoneState: { available: boolean };
  hosts: Record<string, unknown> | null;
}

export interface ServerAddress {
  version: number;
  addr: string;
  'OS-EXT-IPS:type': 'fixed' | 'floating';
  'OS-EXT-IPS-MAC:mac_addr': string;
}

export interface ServerFault {
  code: number;
  message: string;
  details?: string;
  created: string;
}

export interface Server {
  id: string;
  name: string;
  status: string;
  tenant_id: string;
  user_id: string;
  metadata: Record<string, string>;
  image: { id: string } | '';
  flavor: { original_name?: string; id?: string; ram?: number; vcpus?: number; disk?: number };
  addresses: Record<string, ServerAddress[]>;
  key_name: string | null;
  created: string;
  updated: string;
  'OS-EXT-STS:task_state': string | null;
  'OS-EXT-STS:vm_state': string;
  'OS-EXT-STS:power_state': number;
  'OS-EXT-AZ:availability_zone': string;
  'os-extended-volumes:volumes_attached': Array<{ id: string; delete_on_termination?: boolean }>;
  security_groups?: Array<{ name: string }>;
  fault?: ServerFault;
  description?: string | null;
  tags?: string[];
}

export interface BlockDeviceMapping {
  boot_index?: number | null;
  uuid?: string;
  source_type: 'image' | 'volume' | 'snapshot' | 'blank';
  destination_type?: 'local' | 'volume';
  volume_size?: number;
  device_name?: string;
  delete_on_termination?: boolean;
  tag?: string;
}

export interface CreateServerRequest {
  name: string;
  flavorRef: string;
  imageRef?: string;
  block_device_mapping_v2?: BlockDeviceMapping[];
  networks?: Array<{ uuid?: string; port?: string; fixed_ip?: string; tag?: string }> | 'auto' | 'none';
  security_groups?: Array<{ name: string }>;
  key_name?: string;
  availability_zone?: string;
  metadata?: Record<string, string>;
  /** Base64 of the user data. */
  user_data?: string;
  description?: string;
  [extra: string]: unknown;
}

export interface CreatedServer {
  id: string;
  links: Array<{ rel: string; href: string }>;
  adminPass?: string;
  security_groups?: Array<{ name: string }>;
}

export interface VolumeAttachment {
  id: string;
  serverId: string;
  volumeId: string;
  device: string;
  tag?: string | null;
  delete_on_termination?: boolean;
}

export interface InterfaceAttachment {
  port_id: string;
  net_id: string;
  mac_addr: string;
  port_state: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  tag?: string | null;
}

export interface ListServersQuery {
  name?: string;
  status?: string;
  image?: string;
  flavor?: string;
  ip?: string;
  all_tenants?: boolean;
  project_id?: string;
  'changes-since'?: string;
  limit?: number;
  marker?: string;
  [filter: string]: string | number | boolean | undefined;
}

export interface NovaClientOptions {
  region?: string;
  interface?: EndpointInterface;
  /** 2.x asked for on every call. Default 2.79. */
  microversion?: string;
}

export interface WaitServerOptions {
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (s: Server) => void;
}

export class NovaClient {
  readonly microversion: string;

  constructor(
    private readonly session: KeystoneSession,
    private readonly opts: NovaClientOptions = {},
  ) {
    this.microversion = opts.microversion ?? '2.79';
  }

  #target(path: string) {
    return { service: 'compute', path, region: this.opts.region, interface: this.opts.interface };
  }

  #opts(o: RequestOptions = {}): RequestOptions {
    return {
      ...o,
      headers: {
        'OpenStack-API-Version': `compute ${this.microversion}`,
        'X-OpenStack-Nova-API-Version': this.microversion,
        ...(o.headers ?? {}),
      },
    };
  }

  #json<T>(method: string, path: string, o?: RequestOptions): Promise<T> {
    return this.session.requestJson<T>(method, this.#target(path), this.#opts(o));
  }

  async #call(method: string, path: string, o?: RequestOptions): Promise<Response> {
    const res = await this.session.request(method, this.#target(path), this.#opts(o));
    await res.body?.cancel().catch(() => {});
    return res;
  }

  // flavors — api-ref "Flavors"
  async listFlavors(detail = true): Promise<Flavor[]> {
    return (await this.#json<{ flavors: Flavor[] }>('GET', detail ? 'flavors/detail' : 'flavors')).flavors;
  }
  async getFlavor(id: string): Promise<Flavor> {
    return (await this.#json<{ flavor: Flavor }>('GET', `flavors/${encodeURIComponent(id)}`)).flavor;
  }
  /** A flavor by name (recovery maps flavors by name across sites). */
  async findFlavor(name: string): Promise<Flavor | undefined> {
    return (await this.listFlavors(true)).find((f) => f.name === name);
  }

  // key pairs — api-ref "Keypairs (keypairs)"
  async listKeypairs(): Promise<Keypair[]> {
    return (await this.#json<{ keypairs: Array<{ keypair: Keypair }> }>('GET', 'os-keypairs')).keypairs.map(
      (k) => k.keypair,
    );
  }
  async getKeypair(name: string): Promise<Keypair> {
    return (await this.#json<{ keypair: Keypair }>('GET', `os-keypairs/${encodeURIComponent(name)}`)).keypair;
  }
  /** Imports `publicKey`, or lets Nova generate a key pair (the private key is only in this answer). */
  async createKeypair(name: string, publicKey?: string, type = 'ssh'): Promise<Keypair> {
    const keypair: Record<string, string> = { name, type };
    if (publicKey) keypair.public_key = publicKey;
    return (await this.#json<{ keypair: Keypair }>('POST', 'os-keypairs', { json: { keypair } })).keypair;
  }
  async deleteKeypair(name: string): Promise<void> {
    await this.#call('DELETE', `os-keypairs/${encodeURIComponent(name)}`);
  }

  // limits — api-ref "Limits (limits)": the project's quota and what it uses
  async getLimits(): Promise<AbsoluteLimits> {
    return (await this.#json<{ limits: { absolute: AbsoluteLimits } }>('GET', 'limits')).limits.absolute;
  }

  /** Admin: PUT /os-quota-sets/{project} (instances, cores, ram, ...). */
  async updateQuota(projectId: string, limits: Record<string, number>): Promise<Record<string, number>> {
    return (
      await this.#json<{ quota_set: Record<string, number> }>(
        'PUT',
        `os-quota-sets/${encodeURIComponent(projectId)}`,
        {
          json: { quota_set: limits },
        },
      )
    ).quota_set;
  }

  // availability zones — api-ref "Availability zones (os-availability-zone)"
  async listAvailabilityZones(detail = false): Promise<AvailabilityZone[]> {
    return (
      await this.#json<{ availabilityZoneInfo: AvailabilityZone[] }>(
        'GET',
        detail ? 'os-availability-zone/detail' : 'os-availability-zone',
      )
    ).availabilityZoneInfo;
  }

  // servers — api-ref "Servers (servers)"
  async createServer(server: CreateServerRequest): Promise<CreatedServer> {
    return (await this.#json<{ server: CreatedServer }>('POST', 'servers', { json: { server } })).server;
  }
  async getServer(id: string): Promise<Server> {
    return (await this.#json<{ server: Server }>('GET', `servers/${id}`)).server;
  }
  /** The server, or undefined once it is gone (404). */
  async findServer(id: string): Promise<Server | undefined> {
    const res = await this.session.request(
      'GET',
      this.#target(`servers/${id}`),
      this.#opts({ allowStatus: [404] }),
    );
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    return ((await res.json()) as { server: Server }).server;
  }
  async listServers(query: ListServersQuery = {}): Promise<Server[]> {
    const q = { ...query, all_tenants: query.all_tenants ? 1 : undefined };
    return (await this.#json<{ servers: Server[] }>('GET', 'servers/detail', { query: q })).servers;
  }
  async updateServer(id: string, fields: { name?: string; description?: string | null }): Promise<Server> {
    return (await this.#json<{ server: Server }>('PUT', `servers/${id}`, { json: { server: fields } }))
      .server;
  }
  async deleteServer(id: string): Promise<void> {
    await this.#call('DELETE', `servers/${id}`);
  }

  // server actions — api-ref "Servers - run an action (servers, action)"
  async #action(id: string, body: Record<string, unknown>): Promise<Response> {
    return this.#call('POST', `servers/${id}/action`, { json: body });
  }
  async startServer(id: string): Promise<void> {
    await this.#action(id, { 'os-start': null });
  }
  async stopServer(id: string): Promise<void> {
    await this.#action(id, { 'os-stop': null });
  }
  async pauseServer(id: string): Promise<void> {
    await this.#action(id, { pause: null });
  }
  async unpauseServer(id: string): Promise<void> {
    await this.#action(id, { unpause: null });
  }
  async rebootServer(id: string, type: 'SOFT' | 'HARD' = 'SOFT'): Promise<void> {
    await this.#action(id, { reboot: { type } });
  }
  /** createImage: the new Glance image's id (from the body since 2.45, from `Location` before). */
  async createImage(id: string, name: string, metadata: Record<string, string> = {}): Promise<string> {
    const res = await this.session.request(
      'POST',
      this.#target(`servers/${id}/action`),
      this.#opts({ json: { createImage: { name, metadata } } }),
    );
    const text = await res.text();
    if (text) {
      const body = JSON.parse(text) as { image_id?: string };
      if (body.image_id) return body.image_id;
    }
    const location = res.headers.get('location');
    const imageId = location?.replace(/\/+$/, '').split('/').pop();
    if (!imageId) throw new Error(`createImage of server ${id} answered without an image id`);
    return imageId;
  }

  // volume attachments — api-ref "Servers with volume attachments (servers, os-volume_attachments)"
  async listVolumeAttachments(serverId: string): Promise<VolumeAttachment[]> {
    return (
      await this.#json<{ volumeAttachments: VolumeAttachment[] }>(
        'GET',
        `servers/${serverId}/os-volume_attachments`,
      )
    ).volumeAttachments;
  }
  async getVolumeAttachment(serverId: string, volumeId: string): Promise<VolumeAttachment> {
    return (
      await this.#json<{ volumeAttachment: VolumeAttachment }>(
        'GET',
        `servers/${serverId}/os-volume_attachments/${volumeId}`,
      )
    ).volumeAttachment;
  }
  async attachVolume(
    serverId: string,
    volumeId: string,
    opts: { device?: string; tag?: string; delete_on_termination?: boolean } = {},
  ): Promise<VolumeAttachment> {
    return (
      await this.#json<{ volumeAttachment: VolumeAttachment }>(
        'POST',
        `servers/${serverId}/os-volume_attachments`,
        {
          json: { volumeAttachment: { volumeId, ...opts } },
        },
      )
    ).volumeAttachment;
  }
  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.#call('DELETE', `servers/${serverId}/os-volume_attachments/${volumeId}`);
  }

  // interfaces — api-ref "Port interfaces (servers, os-interface)"
  async listInterfaces(serverId: string): Promise<InterfaceAttachment[]> {
    return (
      await this.#json<{ interfaceAttachments: InterfaceAttachment[] }>(
        'GET',
        `servers/${serverId}/os-interface`,
      )
    ).interfaceAttachments;
  }
  async getInterface(serverId: string, portId: string): Promise<InterfaceAttachment> {
    return (
      await this.#json<{ interfaceAttachment: InterfaceAttachment }>(
        'GET',
        `servers/${serverId}/os-interface/${portId}`,
      )
    ).interfaceAttachment;
  }
  async attachInterface(
    serverId: string,
    target: { port_id: string } | { net_id: string; fixed_ips?: Array<{ ip_address: string }> },
  ): Promise<InterfaceAttachment> {
    return (
      await this.#json<{ interfaceAttachment: InterfaceAttachment }>(
        'POST',
        `servers/${serverId}/os-interface`,
        {
          json: { interfaceAttachment: target },
        },
      )
    ).interfaceAttachment;
  }
  async detachInterface(serverId: string, portId: string): Promise<void> {
    await this.#call('DELETE', `servers/${serverId}/os-interface/${portId}`);
  }

  // metadata — api-ref "Server metadata (servers, metadata)"
  async getServerMetadata(serverId: string): Promise<Record<string, string>> {
    return (await this.#json<{ metadata: Record<string, string> }>('GET', `servers/${serverId}/metadata`))
      .metadata;
  }
  /** Adds or changes the given keys, keeps the others. */
  async updateServerMetadata(
    serverId: string,
    metadata: Record<string, string>,
  ): Promise<Record<string, string>> {
    return (
      await this.#json<{ metadata: Record<string, string> }>('POST', `servers/${serverId}/metadata`, {
        json: { metadata },
      })
    ).metadata;
  }
  /** Replaces all metadata. */
  async setServerMetadata(
    serverId: string,
    metadata: Record<string, string>,
  ): Promise<Record<string, string>> {
    return (
      await this.#json<{ metadata: Record<string, string> }>('PUT', `servers/${serverId}/metadata`, {
        json: { metadata },
      })
    ).metadata;
  }
  async getServerMetadataItem(serverId: string, key: string): Promise<string> {
    return (
      await this.#json<{ meta: Record<string, string> }>(
        'GET',
        `servers/${serverId}/metadata/${encodeURIComponent(key)}`,
      )
    ).meta[key];
  }
  async setServerMetadataItem(serverId: string, key: string, value: string): Promise<void> {
    await this.#json('PUT', `servers/${serverId}/metadata/${encodeURIComponent(key)}`, {
      json: { meta: { [key]: value } },
    });
  }
  async deleteServerMetadataItem(serverId: string, key: string): Promise<void> {
    await this.#call('DELETE', `servers/${serverId}/metadata/${encodeURIComponent(key)}`);
  }

  // waiting
  /** Polls until the server reaches `status`; ERROR fails with the server's fault message. */
  waitForServer(id: string, status = 'ACTIVE', o: WaitServerOptions = {}): Promise<Server> {
    return waitFor({
      resource: `server ${id}`,
      poll: () => this.getServer(id),
      status: (s) => s.status,
      ready: [status],
      failed: status === 'ERROR' ? [] : ['ERROR'],
      fault: (s) => s.fault?.message,
      timeoutMs: o.timeoutMs ?? 600_000,
      intervalMs: o.intervalMs ?? 1000,
      signal: o.signal,
      onProgress: o.onProgress,
    });
  }

  /** Polls until the server is gone (404) or fails to delete (ERROR). */
  async waitForServerDeleted(id: string, o: WaitServerOptions = {}): Promise<void> {
    await waitFor<Server | undefined>({
      resource: `server ${id}`,
      poll: () => this.findServer(id),
      // A server in ERROR being deleted is on its way out, not failed.
      status: (s) => (!s ? 'DELETED' : s['OS-EXT-STS:task_state'] === 'deleting' ? 'DELETING' : s.status),
      ready: ['DELETED'],
      failed: ['ERROR'],
      fault: (s) => s?.fault?.message,
      timeoutMs: o.timeoutMs ?? 600_000,
      intervalMs: o.intervalMs ?? 1000,
      signal: o.signal,
    });
  }
}
