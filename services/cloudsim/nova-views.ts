/**
 * How the simulated Nova shows a server at the caller's microversion:
 * addresses from the server's Neutron ports (fixed and floating), the
 * embedded flavor from 2.47, admin-only OS-EXT-SRV-ATTR fields, and the
 * fields later microversions added.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type { NovaContext } from './nova-context.js';
import { atLeast } from './nova-microversion.js';
import { COMPUTE_HOST, type SimServer, serverStatus } from './nova-servers.js';
import { callerOf } from './sim-auth.js';

export function serverViewer(ctx: NovaContext): (res: Response, s: SimServer) => Record<string, unknown> {
  const { site, network, link } = ctx;

  const addresses = (s: SimServer) => {
    const out: Record<string, Array<Record<string, unknown>>> = {};
    for (const p of network().serverPorts(s.id)) {
      const list = out[p.networkName] ?? [];
      out[p.networkName] = list;
      for (const f of p.fixedIps)
        list.push({
          version: 4,
          addr: f.ip_address,
          'OS-EXT-IPS:type': 'fixed',
          'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
        });
      for (const fip of p.floatingIps)
        list.push({
          version: 4,
          addr: fip,
          'OS-EXT-IPS:type': 'floating',
          'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
        });
    }
    return out;
  };

  const serverView = (res: Response, s: SimServer): Record<string, unknown> => {
    const c = callerOf(res);
    const status = serverStatus(s);
    const flavor = atLeast(res, 47)
      ? {
          vcpus: s.flavor.vcpus,
          ram: s.flavor.ram,
          disk: s.flavor.disk,
          ephemeral: s.flavor.ephemeral,
          swap: s.flavor.swap,
          original_name: s.flavor.name,
          extra_specs: s.flavor.extra_specs,
        }
      : {
          id: s.flavor.id,
          links: [{ rel: 'bookmark', href: `${site.endpoint('compute')}/flavors/${s.flavor.id}` }],
        };
    const groups = s.vmState === 'building' && s.securityGroups.length === 0 ? [] : portGroups(s);
    const v: Record<string, unknown> = {
      id: s.id,
      name: s.name,
      status,
      tenant_id: s.projectId,
      user_id: s.userId,
      metadata: s.metadata,
      hostId:
        s.vmState === 'building' && s.taskState === 'scheduling'
          ? ''
          : createHash('sha224')
              .update(s.projectId + COMPUTE_HOST)
              .digest('hex'),
      image: s.imageId
        ? {
            id: s.imageId,
            links: [{ rel: 'bookmark', href: `${site.endpoint('compute')}/images/${s.imageId}` }],
          }
        : '',
      flavor,
      created: s.created,
      updated: s.updated,
      addresses: addresses(s),
      accessIPv4: '',
      accessIPv6: '',
      links: link('servers', s.id),
      'OS-DCF:diskConfig': 'MANUAL',
      progress: 0,
      'OS-EXT-AZ:availability_zone':
        s.vmState === 'building' && s.taskState === 'scheduling' ? '' : s.availabilityZone,
      config_drive: '',
      key_name: s.keyName,
      'OS-SRV-USG:launched_at': s.launchedAt,
      'OS-SRV-USG:terminated_at': null,
      'OS-EXT-STS:task_state': s.taskState,
      'OS-EXT-STS:vm_state': s.vmState,
      'OS-EXT-STS:power_state': s.powerState,
      'os-extended-volumes:volumes_attached': s.volumes.map((vol) => ({
        id: vol.volumeId,
        ...(atLeast(res, 3) ? { delete_on_termination: vol.deleteOnTermination } : {}),
      })),
      security_groups: groups.map((name) => ({ name })),
    };
    if (status !== 'ACTIVE' && status !== 'BUILD') delete v.progress;
    if (s.fault && s.vmState === 'error') v.fault = s.fault;
    if (atLeast(res, 9)) v.locked = false;
    if (atLeast(res, 19)) v.description = s.description;
    if (atLeast(res, 26)) v.tags = s.tags;
    if (atLeast(res, 73)) v.locked_reason = null;
    if (atLeast(res, 63)) v.trusted_image_certificates = null;
    if (c.isAdmin) {
      Object.assign(v, {
        'OS-EXT-SRV-ATTR:host':
          s.vmState === 'building' && s.taskState === 'scheduling' ? null : COMPUTE_HOST,
        'OS-EXT-SRV-ATTR:hypervisor_hostname':
          s.vmState === 'building' && s.taskState === 'scheduling' ? null : COMPUTE_HOST,
        'OS-EXT-SRV-ATTR:instance_name': s.instanceName,
      });
      if (atLeast(res, 3)) {
        Object.assign(v, {
          'OS-EXT-SRV-ATTR:hostname': s.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
          'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
          'OS-EXT-SRV-ATTR:user_data': s.userData,
          'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`,
          'OS-EXT-SRV-ATTR:launch_index': 0,
          'OS-EXT-SRV-ATTR:kernel_id': '',
          'OS-EXT-SRV-ATTR:ramdisk_id': '',
        });
      }
    }
    return v;
  };

  /** Security group names as Nova shows them: the groups of the server's ports (or the ones asked for while building). */
  const portGroups = (s: SimServer): string[] => {
    const ports = network().serverPorts(s.id);
    if (ports.length === 0) return s.securityGroups;
    return [...new Set(ports.flatMap((p) => p.securityGroups))];
  };
  return serverView;
}
