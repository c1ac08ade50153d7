/**
 * What simulated services of one site offer each other in process (the real
 * services talk over RPC or HTTP; the simulator keeps it simple). Each
 * service's factory returns an object that implements its contract here in
 * addition to SimService, and siblings get it with `site.service<...>(type)`.
 */
import type { Readable } from 'node:stream';
import type { SimService } from './site.js';

export interface SimImage {
  id: string;
  name: string | null;
  status: 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'importing' | 'uploading';
  owner: string;
  visibility: 'public' | 'private' | 'shared' | 'community';
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  /** Extra properties (image_type, instance_uuid, base_image_ref, ...). */
  properties: Record<string, string>;
}

/** Glance (type `image`). */
export interface ImageServiceApi extends SimService {
  getImage(id: string): SimImage | undefined;
  /** The file holding an active image's bytes. */
  imageDataPath(id: string): string | undefined;
  /** Creates an active image from bytes on disk (Nova snapshots, Cinder upload-to-image). The file is copied. */
  createImageFromFile(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      properties?: Record<string, string>;
    },
    filePath: string,
  ): Promise<SimImage>;
  /**
   * A queued image record, for callers that must answer with the image id before the bytes are
   * copied (Cinder's os-volume_upload_image); fill it with `uploadImageFromFile`.
   */
  createQueuedImage(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      visibility?: SimImage['visibility'];
      properties?: Record<string, string>;
    },
  ): SimImage;
  /** Copies the file into a queued image (saving → active; killed on failure). */
  uploadImageFromFile(id: string, filePath: string): Promise<SimImage>;
}

export interface SimVolumeAttachment {
  id: string;
  server_id: string;
  device: string;
  host_name: string | null;
}

/** Cinder (type `volumev3`, alias `block-storage`). */
export interface VolumeServiceApi extends SimService {
  getVolume(
    id: string,
  ):
    | { id: string; status: string; size: number; project_id: string; attachments: SimVolumeAttachment[] }
    | undefined;
  /** Marks the volume in-use by the server (Nova's attach goes through this). Throws if not available. */
  attach(volumeId: string, serverId: string, device: string): SimVolumeAttachment;
  detach(volumeId: string, serverId: string): void;
  /** The sparse file holding the volume's bytes. */
  volumeDataPath(id: string): string;
}

/** Neutron (type `network`). */
export interface NetworkServiceApi extends SimService {
  /** Creates (or adopts, with portId) a port for a server on a network; returns its id and fixed IPs. */
  bindPort(
    projectId: string,
    serverId: string,
    request: { networkId?: string; portId?: string; fixedIp?: string },
  ): {
    portId: string;
    networkId: string;
    macAddress: string;
    fixedIps: Array<{ subnet_id: string; ip_address: string }>;
  };
  /** Server deleted: its ports created by Nova are deleted, user-created ones unbound. */
  releasePorts(serverId: string): void;
  /** A network the project may boot on (own, shared or external), for Nova's API-time checks. */
  findNetwork(projectId: string, id: string): { id: string; name: string; subnets: string[] } | undefined;
  /** Networks a project could get "auto"-matically: its own and shared ones, not external. */
  usableNetworks(projectId: string): Array<{ id: string; name: string }>;
  /** A port, for Nova's checks (exists, owner, in use). */
  findPort(id: string): { id: string; projectId: string; networkId: string; deviceId: string } | undefined;
  /** A security group of the project by name or id. */
  findSecurityGroup(projectId: string, nameOrId: string): { id: string; name: string } | undefined;
  /** Sets a bound port's security groups (ids). */
  setPortSecurityGroups(portId: string, groupIds: string[]): void;
  /** One interface detached: deleted if Nova created it, unbound otherwise. */
  releasePort(serverId: string, portId: string): void;
  /** The server's ports with their network names and floating IPs (Nova's `addresses`, `os-interface`). */
  serverPorts(serverId: string): Array<{
    portId: string;
    networkId: string;
    networkName: string;
    macAddress: string;
    status: string;
    fixedIps: Array<{ subnet_id: string; ip_address: string }>;
    floatingIps: string[];
    securityGroups: string[];
  }>;
}

/** Swift (type `object-store`). Accounts are `AUTH_<project id>`. */
export interface ObjectStoreApi extends SimService {
  ensureContainer(account: string, container: string): void;
  putObject(
    account: string,
    container: string,
    name: string,
    data: Readable | Buffer,
    headers?: Record<string, string>,
  ): Promise<{ etag: string; size: number }>;
  /** A stream of the object's bytes (SLO manifests resolved), or undefined if missing. */
  getObject(account: string, container: string, name: string): Readable | undefined;
  deleteObject(account: string, container: string, name: string): boolean;
  listObjects(account: string, container: string, prefix?: string): string[];
}
