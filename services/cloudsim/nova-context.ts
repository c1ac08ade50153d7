/**
 * What the route modules of the simulated Nova share: the site, the server
 * store, the seeded flavors, the sibling services, and the lookups every
 * server route starts with (a server the caller may see, a state check).
 */
import type { Response } from 'express';
import type { ImageServiceApi, NetworkServiceApi, VolumeServiceApi } from './contracts.js';
import type { SimFlavor } from './nova-flavors.js';
import { NovaFault, type ServerStore, type SimServer } from './nova-servers.js';
import type { SimCaller } from './sim-auth.js';
import type { SiteContext } from './site.js';

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

/** Nova's error body: {"<faultKey>": {"code": N, "message": "..."}}. */
export function novaFault(res: Response, status: number, message: string): void {
  res.status(status).json({ [FAULT_KEYS[status] ?? 'computeFault']: { code: status, message } });
}

export interface NovaContext {
  site: SiteContext;
  store: ServerStore;
  flavors: Map<string, SimFlavor>;
  network(): NetworkServiceApi;
  images(): ImageServiceApi;
  volumes(): VolumeServiceApi;
  computeUrl(): string;
  link(kind: string, id: string): Array<{ rel: string; href: string }>;
  findFlavor(ref: string): SimFlavor | undefined;
  /** The server if the caller may see it (its project, or admin), else Nova's 404. */
  findServer(c: SimCaller, id: string): SimServer;
  /** 409 like Nova when a task is running or the vm state does not allow the action. */
  requireState(s: SimServer, action: string, states: SimServer['vmState'][]): void;
  /** An image the caller may boot from (own, public, shared or community), if any. */
  visibleImage(c: SimCaller, id: string): ReturnType<ImageServiceApi['getImage']>;
}

export function novaContext(
  site: SiteContext,
  store: ServerStore,
  flavors: Map<string, SimFlavor>,
): NovaContext {
  const computeUrl = () => `${site.endpoint('compute')}/v2.1`;
  const ctx: NovaContext = {
    site,
    store,
    flavors,
    network: () => site.service<NetworkServiceApi>('network'),
    images: () => site.service<ImageServiceApi>('image'),
    volumes: () => site.service<VolumeServiceApi>('volumev3'),
    computeUrl,
    link: (kind, id) => [
      { rel: 'self', href: `${computeUrl()}/${kind}/${id}` },
      { rel: 'bookmark', href: `${site.endpoint('compute')}/${kind}/${id}` },
    ],
    findFlavor: (ref) => flavors.get(ref.replace(/^.*\//, '')),
    findServer(c, id) {
      const s = store.servers.get(id);
      if (!s || (!c.isAdmin && s.projectId !== c.projectId))
        throw new NovaFault(404, `Instance ${id} could not be found.`);
      return s;
    },
    requireState(s, action, states) {
      if (s.taskState)
        throw new NovaFault(
          409,
          `Cannot '${action}' instance ${s.id} while it is in task_state ${s.taskState}`,
        );
      if (!states.includes(s.vmState))
        throw new NovaFault(409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
    },
    visibleImage(c, id) {
      const img = ctx.images().getImage(id);
      if (!img || img.status === 'deleted') return undefined;
      if (img.owner !== c.projectId && img.visibility === 'private' && !c.isAdmin) return undefined;
      return img;
    },
  };
  return ctx;
}
