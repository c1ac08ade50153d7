/**
 * Simulated Nova (Compute API v2.1, catalog type `compute`, microversions up
 * to 2.79): flavors, key pairs, availability zones, servers with their
 * actions (start/stop, pause/unpause, reboot, createImage), volume
 * attachments, interfaces and metadata. Addresses come from the site's
 * Neutron, root disks from the site's Glance image bytes, snapshots go back
 * into Glance, volumes are attached through Cinder. A project sees its own
 * servers; admin may list all with `all_tenants`. Errors use Nova's body,
 * e.g. {"itemNotFound": {"code": 404, "message": "..."}}.
 *
 * This module wires the routes of the nova-*.ts modules together.
 */
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { actionRoutes } from './nova-actions.js';
import { attachmentRoutes } from './nova-attachments.js';
import { novaContext, novaFault } from './nova-context.js';
import { flavorRoutes } from './nova-flavor-routes.js';
import { devstackFlavors, type SimFlavor } from './nova-flavors.js';
import { keypairRoutes } from './nova-keypairs.js';
import { metadataRoutes } from './nova-metadata.js';
import { MAX_MICROVERSION, novaMicroversion } from './nova-microversion.js';
import { serverRoutes } from './nova-server-routes.js';
import { COMPUTE_HOST, isoNow, NovaFault, ServerStore } from './nova-servers.js';
import { callerOf } from './sim-auth.js';
import type { SimService, SiteContext } from './site.js';

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

/** nova.conf's [quota] defaults: what GET /limits reports as the project's maximums. */
const QUOTA_DEFAULTS = { instances: 10, cores: 20, ram: 51200 };

function novaServiceWith(site: SiteContext, opts: NovaOptions): NovaService {
  const store = new ServerStore(site, join(site.dataDir, 'nova'), opts.stepDelayMs ?? 150);
  const flavors = new Map(devstackFlavors().map((f) => [f.id, f]));
  const ctx = novaContext(site, store, flavors);

  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  const versionDoc = () => ({
    id: 'v2.1',
    status: 'CURRENT',
    version: `2.${MAX_MICROVERSION}`,
    min_version: '2.1',
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${ctx.computeUrl()}/` }],
  });
  router.get('/', (_req, res) => {
    res.json({ versions: [versionDoc()] });
  });

  const api = express.Router();
  router.use('/v2.1', novaMicroversion(novaFault), api);
  api.get('/', (_req, res) => {
    res.json({ version: versionDoc() });
  });
  api.use(site.auth);

  flavorRoutes(api, ctx);
  const hasKeypair = keypairRoutes(api);

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

  // ---- limits (nova.conf [quota] defaults; usage of the caller's project) -------------------------

  /** Per-project quota overrides (admin PUT /os-quota-sets/{project}); not enforced, reported by /limits. */
  const quotas = new Map<string, Partial<typeof QUOTA_DEFAULTS>>();
  const quotaOf = (projectId: string) => ({ ...QUOTA_DEFAULTS, ...(quotas.get(projectId) ?? {}) });
  api.put('/os-quota-sets/:project', (req, res) => {
    if (!callerOf(res).isAdmin)
      throw new NovaFault(403, 'Policy does not allow os_compute_api:os-quota-sets:update to be performed.');
    const body = (req.body?.quota_set ?? {}) as Record<string, unknown>;
    const next = { ...(quotas.get(String(req.params.project)) ?? {}) };
    for (const k of ['instances', 'cores', 'ram'] as const)
      if (typeof body[k] === 'number') next[k] = body[k] as number;
    quotas.set(String(req.params.project), next);
    res.json({ quota_set: quotaOf(String(req.params.project)) });
  });
  api.get('/limits', (_req, res) => {
    const caller = callerOf(res);
    const quota = quotaOf(caller.projectId);
    const mine = [...store.servers.values()].filter((s) => s.projectId === caller.projectId);
    res.json({
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: quota.instances,
          maxTotalCores: quota.cores,
          maxTotalRAMSize: quota.ram,
          maxTotalKeypairs: 100,
          maxServerMeta: 128,
          maxServerGroups: 10,
          maxServerGroupMembers: 10,
          totalInstancesUsed: mine.length,
          totalCoresUsed: mine.reduce((n, s) => n + s.flavor.vcpus, 0),
          totalRAMUsed: mine.reduce((n, s) => n + s.flavor.ram, 0),
          totalServerGroupsUsed: 0,
        },
      },
    });
  });

  serverRoutes(api, ctx, hasKeypair);
  actionRoutes(api, ctx);
  attachmentRoutes(api, ctx);
  metadataRoutes(api, ctx);

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
