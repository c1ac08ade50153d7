/**
 * The sites of the operator's cloud, as the config names them. They are
 * regions of the Keystone in `[keystone_authtoken]`; tenant sites of other
 * clouds live in the database (objects/sites.ts).
 */
import { keystoneAuthtokenOpts } from '../../api/auth/opts.js';
import type { Config } from '../config/load.js';
import type { EndpointInterface } from '../openstack/catalog.js';
import { siteOpts, sitesOpts } from './opts.js';

/** `[site:NAME] <x>_endpoint` option → the catalog service type it replaces. */
export const ENDPOINT_OPTIONS = {
  compute_endpoint: 'compute',
  volume_endpoint: 'volumev3',
  image_endpoint: 'image',
  network_endpoint: 'network',
  orchestration_endpoint: 'orchestration',
  object_store_endpoint: 'object-store',
} as const;

export interface OperatorSite {
  kind: 'operator';
  name: string;
  authUrl: string;
  regionName: string;
  interface: EndpointInterface;
  description: string;
  /** Service type → URL, only for the overridden ones. */
  endpointOverrides: Record<string, string>;
}

export function operatorSites(conf: Config): OperatorSite[] {
  const authUrl = conf.get(keystoneAuthtokenOpts).auth_url;
  return conf
    .instances(siteOpts)
    .sort()
    .map((name) => {
      const c = conf.get(siteOpts, name);
      const endpointOverrides: Record<string, string> = {};
      for (const [opt, type] of Object.entries(ENDPOINT_OPTIONS)) {
        const url = c[opt as keyof typeof ENDPOINT_OPTIONS];
        if (url) endpointOverrides[type] = url;
      }
      return {
        kind: 'operator' as const,
        name,
        authUrl,
        regionName: c.region_name || name,
        interface: c.interface,
        description: c.description,
        endpointOverrides,
      };
    });
}

export function operatorSite(conf: Config, name: string): OperatorSite | undefined {
  return operatorSites(conf).find((s) => s.name === name);
}

/** `[sites] default_primary_site`, else the only configured site, else none. */
export function defaultPrimarySite(conf: Config): string | undefined {
  const set = conf.get(sitesOpts).default_primary_site;
  if (set) return set;
  const all = conf.instances(siteOpts);
  return all.length === 1 ? all[0] : undefined;
}
