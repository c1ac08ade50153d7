/**
 * Sites of the operator's cloud (`[site:NAME]`, regions of the Keystone in
 * `[keystone_authtoken]`) and `[sites]`: the default primary site and the key
 * that encrypts the application-credential secrets of tenant-registered sites.
 */
import { choice, defineGroup, defineTemplatedGroup, type GroupValues, str } from '../config/types.js';

const endpoint = (service: string) =>
  str('', `URL of the ${service} endpoint at this site. Empty means the one in the Keystone catalog.`);

export const siteOpts = defineTemplatedGroup(
  'site',
  "A site of the operator's cloud: one region of the Keystone named by [keystone_authtoken] auth_url. " +
    'NAME is how policies and the API name the site (e.g. [site:RegionOne]).',
  {
    region_name: str('', 'Keystone region of this site. Empty means NAME.'),
    interface: choice(
      'public',
      ['public', 'internal', 'admin'] as const,
      'Catalog interface used at this site.',
    ),
    description: str('', 'Shown to tenants in GET /v1/sites.'),
    compute_endpoint: endpoint('Nova (compute)'),
    volume_endpoint: endpoint('Cinder (block-storage, volumev3)'),
    image_endpoint: endpoint('Glance (image)'),
    network_endpoint: endpoint('Neutron (network)'),
    orchestration_endpoint: endpoint('Heat (orchestration)'),
    object_store_endpoint: endpoint('Swift (object-store)'),
  },
);

export const sitesOpts = defineGroup('sites', 'Sites a workload runs at or is recovered to.', {
  default_primary_site: str(
    '',
    'Site a policy runs at when it names none. Empty means the only [site:NAME] when there is one.',
  ),
  secret_key: str(
    '',
    'Key (base64 of 32 random bytes) encrypting the application-credential secrets of sites tenants ' +
      'register in other clouds (AES-256-GCM). Generate one with: openssl rand -base64 32. Keep it: ' +
      'with another key the stored secrets cannot be read. Empty refuses tenant site registration.',
    { secret: true },
  ),
});

export type SiteConf = GroupValues<typeof siteOpts.opts>;
