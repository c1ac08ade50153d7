/** The resource types this Heat knows, by their template type name. */
import { floatingIp } from './floating-ip.js';
import { floatingIpAssociation } from './floating-ip-association.js';
import { keyPair } from './key-pair.js';
import { net } from './net.js';
import { port } from './port.js';
import { randomString } from './random-string.js';
import { router } from './router.js';
import { routerInterface } from './router-interface.js';
import { securityGroup } from './security-group.js';
import { server } from './server.js';
import { subnet } from './subnet.js';
import { none, testResource } from './test-resource.js';
import type { ResourceType } from './types.js';
import { volume } from './volume.js';
import { volumeAttachment } from './volume-attachment.js';

export const RESOURCE_TYPES: Record<string, ResourceType> = {
  'OS::Neutron::Net': net,
  'OS::Neutron::Subnet': subnet,
  'OS::Neutron::Port': port,
  'OS::Neutron::Router': router,
  'OS::Neutron::RouterInterface': routerInterface,
  'OS::Neutron::SecurityGroup': securityGroup,
  'OS::Neutron::FloatingIP': floatingIp,
  'OS::Neutron::FloatingIPAssociation': floatingIpAssociation,
  'OS::Cinder::Volume': volume,
  'OS::Cinder::VolumeAttachment': volumeAttachment,
  'OS::Nova::Server': server,
  'OS::Nova::KeyPair': keyPair,
  'OS::Heat::RandomString': randomString,
  'OS::Heat::None': none,
  'OS::Heat::TestResource': testResource,
};
