/**
 * One simulated OpenStack site (a region): each service on its own loopback
 * port, registered in the Keystone catalog, behind the site's faults and
 * token check, with its data under `<dataDir>/<region>/<service>/`.
 *
 * A service module exports a factory `(site: SiteContext) => SimService`.
 * Services of the same site reach each other in-process through
 * `site.service<T>(type)` (e.g. Nova asks Glance to store a snapshot, Cinder
 * writes backups into Swift) — the one exception is Heat, which like the
 * real one calls the other services' HTTP APIs with the caller's token.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { type Listening, listen } from './server.js';
import { simAuth } from './sim-auth.js';
import { type SiteFaults, siteFaultMiddleware } from './site-faults.js';
import type { IdentityStore } from './store.js';
import type { TokenProvider } from './tokens.js';

export interface SimService {
  /** Catalog service type: compute, image, volumev3, block-storage, network, orchestration, object-store. */
  type: string;
  /** Extra catalog types served by the same endpoint (e.g. Cinder: block-storage beside volumev3). */
  aliases?: string[];
  name: string;
  /** The routes. Mounted behind the site's fault switch and request-id middleware; NOT behind auth (see `auth`). */
  router: express.Router;
  /** The catalog URL from the service's base URL, e.g. `${base}/v2.1` or `${base}/v1/AUTH_%(project_id)s`. */
  catalogUrl(base: string): string;
  /** Called once the site is up (all endpoints known). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface SiteContext {
  region: string;
  /** This site's data directory; a service keeps its files under `join(dataDir, <its name>)`. */
  dataDir: string;
  identity: IdentityStore;
  tokens: TokenProvider;
  faults: SiteFaults;
  /** Express middleware validating X-Auth-Token against this site's Keystone; sets `res.locals.caller`. */
  auth: express.RequestHandler;
  /** A sibling service of this site (its factory's return value), for in-process cooperation. */
  service<T = SimService>(type: string): T;
  /** The base URL (scheme://host:port) a service of this site listens on. */
  endpoint(type: string): string;
}

export type ServiceFactory = (site: SiteContext) => SimService;

export interface RunningSite {
  region: string;
  context: SiteContext;
  endpoints: Record<string, string>;
  services: Map<string, SimService>;
  close(): Promise<void>;
}

export async function startSite(opts: {
  region: string;
  dataDir: string;
  identity: IdentityStore;
  tokens: TokenProvider;
  faults: SiteFaults;
  factories: ServiceFactory[];
}): Promise<RunningSite> {
  const dataDir = join(opts.dataDir, opts.region);
  mkdirSync(dataDir, { recursive: true });
  const services = new Map<string, SimService>();
  const endpoints: Record<string, string> = {};
  const context: SiteContext = {
    region: opts.region,
    dataDir,
    identity: opts.identity,
    tokens: opts.tokens,
    faults: opts.faults,
    auth: simAuth(opts.tokens),
    service<T>(type: string): T {
      const s = services.get(type) ?? [...services.values()].find((x) => x.aliases?.includes(type));
      if (!s) throw new Error(`site ${opts.region} has no ${type} service`);
      return s as T;
    },
    endpoint(type: string): string {
      const e = endpoints[type];
      if (!e) throw new Error(`site ${opts.region} has no ${type} endpoint`);
      return e;
    },
  };
  for (const factory of opts.factories) {
    const s = factory(context);
    services.set(s.type, s);
  }
  const listening: Listening[] = [];
  for (const s of services.values()) {
    const app: Express = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(siteFaultMiddleware(opts.faults, s.type));
    app.use(s.router);
    const l = await listen(app);
    listening.push(l);
    endpoints[s.type] = l.url;
    for (const alias of s.aliases ?? []) endpoints[alias] = l.url;
    opts.identity.registerService(s.type, s.name, s.catalogUrl(l.url), opts.region);
    for (const alias of s.aliases ?? [])
      opts.identity.registerService(alias, s.name, s.catalogUrl(l.url), opts.region);
  }
  for (const s of services.values()) await s.start?.();
  return {
    region: opts.region,
    context,
    endpoints,
    services,
    async close() {
      for (const s of services.values()) await s.stop?.();
      await Promise.all(listening.map((l) => l.close()));
    },
  };
}
