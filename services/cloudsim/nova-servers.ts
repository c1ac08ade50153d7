/**
 * The simulated Nova's servers and their life: BUILD → ACTIVE after a short
 * delay (ports bound in Neutron, a root disk copied from the Glance image's
 * bytes, boot volumes attached through Cinder), power actions with their
 * task states, delete releasing ports and volumes. An id in
 * `site.faults.stuck` never leaves its current state, like a server whose
 * compute host stopped answering.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ImageServiceApi, NetworkServiceApi, VolumeServiceApi } from './contracts.js';
import type { SimFlavor } from './nova-flavors.js';
import type { SiteContext } from './site.js';

export class NovaFault extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type NetworkRequest = { uuid?: string; port?: string; fixed_ip?: string };

export interface ServerVolume {
  volumeId: string;
  device: string;
  deleteOnTermination: boolean;
  tag: string | null;
  root: boolean;
}

export interface SimServer {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  vmState: 'building' | 'active' | 'stopped' | 'paused' | 'error' | 'deleted';
  taskState: string | null;
  powerState: number;
  imageId: string | null;
  flavor: SimFlavor;
  keyName: string | null;
  availabilityZone: string;
  metadata: Record<string, string>;
  userData: string | null;
  description: string | null;
  created: string;
  updated: string;
  launchedAt: string | null;
  networks: NetworkRequest[];
  securityGroups: string[];
  volumes: ServerVolume[];
  fault?: { code: number; message: string; details: string; created: string };
  diskPath: string | null;
  instanceName: string;
  tags: string[];
}

export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4 } as const;
export const COMPUTE_HOST = 'sim-compute';

export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function serverStatus(s: SimServer): string {
  if (s.taskState === 'deleting' && s.vmState !== 'error')
    return s.vmState === 'building' ? 'BUILD' : 'ACTIVE';
  switch (s.vmState) {
    case 'building':
      return 'BUILD';
    case 'active':
      if (s.taskState === 'rebooting' || s.taskState === 'reboot_pending') return 'REBOOT';
      if (s.taskState === 'rebooting_hard' || s.taskState === 'reboot_pending_hard') return 'HARD_REBOOT';
      return 'ACTIVE';
    case 'stopped':
      return 'SHUTOFF';
    case 'paused':
      return 'PAUSED';
    case 'error':
      return 'ERROR';
    default:
      return 'DELETED';
  }
}

export class ServerStore {
  readonly servers = new Map<string, SimServer>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #instanceCounter = 0;

  constructor(
    readonly site: SiteContext,
    readonly dataDir: string,
    readonly delayMs: number,
  ) {}

  get network(): NetworkServiceApi {
    return this.site.service<NetworkServiceApi>('network');
  }
  get image(): ImageServiceApi {
    return this.site.service<ImageServiceApi>('image');
  }
  get volume(): VolumeServiceApi {
    return this.site.service<VolumeServiceApi>('volumev3');
  }

  newServer(
    fields: Omit<
      SimServer,
      | 'id'
      | 'created'
      | 'updated'
      | 'instanceName'
      | 'launchedAt'
      | 'diskPath'
      | 'vmState'
      | 'taskState'
      | 'powerState'
      | 'tags'
    >,
  ): SimServer {
    const t = isoNow();
    const s: SimServer = {
      ...fields,
      id: randomUUID(),
      created: t,
      updated: t,
      launchedAt: null,
      diskPath: null,
      vmState: 'building',
      taskState: 'scheduling',
      powerState: POWER.NOSTATE,
      instanceName: `instance-${(++this.#instanceCounter).toString(16).padStart(8, '0')}`,
      tags: [],
    };
    this.servers.set(s.id, s);
    this.later(s.id, () => this.#spawn(s));
    return s;
  }

  /**
   * Runs `step` after the delay unless the server is in `faults.stuck`, in which case it waits for release.
   * Deletes pass `ignoreStuck`: Nova deletes a server whose compute host is gone locally, so a server
   * stuck in BUILD can still be cleaned up, as in a real cloud.
   */
  later(serverId: string, step: () => Promise<void> | void, ignoreStuck = false): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.servers.has(serverId)) return;
      if (!ignoreStuck && this.site.faults.stuck.has(serverId)) return this.later(serverId, step);
      Promise.resolve()
        .then(step)
        .catch(() => {});
    }, this.delayMs);
    this.#timers.add(t);
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  touch(s: SimServer): void {
    s.updated = isoNow();
  }

  #fail(s: SimServer, message: string, code = 500): void {
    s.vmState = 'error';
    s.taskState = null;
    s.powerState = POWER.NOSTATE;
    s.fault = { code, message, details: '', created: isoNow() };
    this.touch(s);
  }

  async #spawn(s: SimServer): Promise<void> {
    if (s.taskState === 'deleting') return;
    s.taskState = 'networking';
    const bound: string[] = [];
    try {
      for (const n of s.networks) {
        const b = this.network.bindPort(s.projectId, s.id, {
          networkId: n.uuid,
          portId: n.port,
          fixedIp: n.fixed_ip,
        });
        bound.push(b.portId);
        if (!n.port && s.securityGroups.length > 0) {
          const ids = s.securityGroups
            .map((g) => this.network.findSecurityGroup(s.projectId, g)?.id)
            .filter((x): x is string => !!x);
          this.network.setPortSecurityGroups(b.portId, ids);
        }
      }
    } catch (e) {
      for (const p of bound) this.network.releasePort(s.id, p);
      return this.#fail(s, `Build of instance ${s.id} aborted: ${(e as Error).message}`);
    }
    s.taskState = 'block_device_mapping';
    try {
      for (const v of s.volumes) this.volume.attach(v.volumeId, s.id, v.device);
    } catch (e) {
      return this.#fail(
        s,
        `Build of instance ${s.id} aborted: Failure prepping block device.: ${(e as Error).message}`,
      );
    }
    s.taskState = 'spawning';
    if (s.imageId) {
      const src = this.image.imageDataPath(s.imageId);
      if (!src)
        return this.#fail(
          s,
          `Build of instance ${s.id} aborted: Image ${s.imageId} is unacceptable: Image has no associated data`,
        );
      const dir = join(this.dataDir, 'instances', s.id);
      try {
        await mkdir(dir, { recursive: true });
        await pipeline(createReadStream(src), createWriteStream(join(dir, 'disk')));
        s.diskPath = join(dir, 'disk');
      } catch (e) {
        return this.#fail(s, `Build of instance ${s.id} aborted: ${(e as Error).message}`);
      }
    }
    if (!this.servers.has(s.id) || s.taskState !== 'spawning') return;
    s.vmState = 'active';
    s.taskState = null;
    s.powerState = POWER.RUNNING;
    s.launchedAt = new Date().toISOString().replace('Z', '');
    this.touch(s);
  }

  /** Delete: task_state deleting, then ports released, volumes detached, disk removed, server gone. */
  delete(s: SimServer): void {
    s.taskState = 'deleting';
    this.touch(s);
    this.later(
      s.id,
      async () => {
        this.network.releasePorts(s.id);
        for (const v of s.volumes) {
          try {
            this.volume.detach(v.volumeId, s.id);
          } catch {
            // A volume deleted behind Nova's back: nothing left to detach.
          }
        }
        await rm(join(this.dataDir, 'instances', s.id), { recursive: true, force: true });
        this.servers.delete(s.id);
      },
      true,
    );
  }

  /** A power action: the task state now, the new vm state after the delay. */
  transition(s: SimServer, task: string, to: SimServer['vmState'], power: number): void {
    s.taskState = task;
    this.touch(s);
    this.later(s.id, () => {
      if (s.taskState !== task) return;
      s.vmState = to;
      s.powerState = power;
      s.taskState = null;
      this.touch(s);
    });
  }

  /** Next free virtio device name (/dev/vdb, /dev/vdc, ...). */
  nextDevice(s: SimServer): string {
    const used = new Set(s.volumes.map((v) => v.device));
    if (s.imageId) used.add('/dev/vda');
    for (let c = 'a'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
      const d = `/dev/vd${String.fromCharCode(c)}`;
      if (!used.has(d)) return d;
    }
    throw new NovaFault(400, 'No free disk device names for prefix vd');
  }
}
