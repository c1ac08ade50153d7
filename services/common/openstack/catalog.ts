/**
 * The service catalog of a Keystone v3 token and endpoint selection the way
 * keystoneauth does it: by service type, interface and region.
 */
import { EndpointNotFound } from './errors.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface CatalogEndpoint {
  id?: string;
  interface: string;
  region_id?: string;
  region?: string;
  url: string;
}

export interface CatalogEntry {
  id?: string;
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export interface EndpointFilter {
  interface?: EndpointInterface;
  region?: string;
}

/** Old names some deployments still register (keystoneauth treats them as the same). */
const TYPE_ALIASES: Record<string, string[]> = {
  'block-storage': ['block-storage', 'volumev3', 'volume'],
  volumev3: ['volumev3', 'block-storage', 'volume'],
  'object-store': ['object-store'],
  compute: ['compute'],
  image: ['image'],
  network: ['network'],
  orchestration: ['orchestration'],
  identity: ['identity'],
};

export class ServiceCatalog {
  constructor(readonly entries: readonly CatalogEntry[]) {}

  /**
   * The URL of a service endpoint, trailing slash removed. Interface defaults
   * to public; without a region any region matches, but two different URLs
   * in different regions is ambiguous and an error, since guessing would send
   * a recovery to the wrong site.
   */
  endpointFor(serviceType: string, filter: EndpointFilter = {}): string {
    const iface = filter.interface ?? 'public';
    const types = TYPE_ALIASES[serviceType] ?? [serviceType];
    for (const type of types) {
      const matches = this.entries
        .filter((e) => e.type === type)
        .flatMap((e) => e.endpoints)
        .filter((ep) => normaliseInterface(ep.interface) === iface)
        .filter((ep) => !filter.region || (ep.region_id ?? ep.region) === filter.region);
      const urls = [...new Set(matches.map((m) => m.url.replace(/\/+$/, '')))];
      if (urls.length === 1) return urls[0];
      if (urls.length > 1)
        throw new EndpointNotFound(
          `service type ${serviceType} has ${urls.length} ${iface} endpoints in different regions; set a region`,
        );
    }
    throw new EndpointNotFound(
      `no ${iface} endpoint for service type ${serviceType}${filter.region ? ` in region ${filter.region}` : ''}`,
    );
  }

  /** Regions that offer this service type (any interface). */
  regionsFor(serviceType: string): string[] {
    const regions = this.entries
      .filter((e) => e.type === serviceType)
      .flatMap((e) => e.endpoints.map((ep) => ep.region_id ?? ep.region ?? ''));
    return [...new Set(regions)].filter(Boolean);
  }
}

function normaliseInterface(i: string): string {
  return i.replace(/URL$/, '');
}
