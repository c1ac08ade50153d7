/**
 * What the simulated Neutron offers Nova in process (the NetworkServiceApi
 * contract): binding ports to servers as Nova's network API does (ports it
 * creates are its own and go with the server; ports the user made are only
 * unbound), and the lookups Nova's API makes before it accepts a boot.
 */
import type { NetworkServiceApi } from './contracts.js';
import { BINDING_HOST, type FixedIp, NeutronFault, type NeutronModel, type Row } from './neutron-model.js';
import type { SimService } from './site.js';

export type NovaFacingApi = Omit<NetworkServiceApi, keyof SimService>;

export function novaFacing(model: NeutronModel): NovaFacingApi {
  const api: NovaFacingApi = {
    bindPort(projectId, serverId, request) {
      let port: Row;
      if (request.portId) {
        port = model.port(request.portId);
        if (port.project_id !== projectId)
          throw new NeutronFault(404, 'PortNotFound', `Port ${request.portId} could not be found.`);
        if (port.device_id) throw new NeutronFault(409, 'PortInUse', `Port ${port.id} is still in use.`);
        port.device_id = serverId;
        port.device_owner = 'compute:nova';
        port['binding:host_id'] = BINDING_HOST;
        model.updatePort(port, {});
      } else if (request.networkId) {
        const net = model.network(request.networkId);
        if ((net.subnets as string[]).length === 0)
          throw new NeutronFault(
            400,
            'NetworkRequiresSubnet',
            `Network ${net.id} requires a subnet in order to boot instances on.`,
          );
        port = model.createPort(projectId, {
          network_id: net.id,
          device_id: serverId,
          device_owner: 'compute:nova',
          'binding:host_id': BINDING_HOST,
          fixed_ips: request.fixedIp ? [{ ip_address: request.fixedIp }] : undefined,
        });
        model.novaPorts.add(port.id);
      } else throw new NeutronFault(400, 'BadRequest', 'A network or a port is required');
      return {
        portId: port.id,
        networkId: String(port.network_id),
        macAddress: String(port.mac_address),
        fixedIps: (port.fixed_ips as FixedIp[]).map((f) => ({ ...f })),
      };
    },

    releasePorts(serverId) {
      for (const p of [...model.ports.values()])
        if (p.device_id === serverId && String(p.device_owner).startsWith('compute:'))
          api.releasePort(serverId, p.id);
    },

    releasePort(serverId, portId) {
      const p = model.ports.get(portId);
      if (!p || p.device_id !== serverId) return;
      if (model.novaPorts.has(portId)) model.deletePort(portId, true);
      else model.updatePort(p, { device_id: '', device_owner: '', 'binding:host_id': '' });
    },

    findNetwork(projectId, id) {
      const n = model.networks.get(id);
      if (!n) return undefined;
      if (n.project_id !== projectId && n.shared !== true && n['router:external'] !== true) return undefined;
      return { id: n.id, name: String(n.name), subnets: [...(n.subnets as string[])] };
    },

    usableNetworks(projectId) {
      return [...model.networks.values()]
        .filter((n) => n['router:external'] !== true && (n.project_id === projectId || n.shared === true))
        .map((n) => ({ id: n.id, name: String(n.name) }));
    },

    findPort(id) {
      const p = model.ports.get(id);
      return p
        ? {
            id: p.id,
            projectId: p.project_id,
            networkId: String(p.network_id),
            deviceId: String(p.device_id),
          }
        : undefined;
    },

    findSecurityGroup(projectId, nameOrId) {
      model.ensureDefaultSecurityGroup(projectId);
      const mine = [...model.securityGroups.values()].filter((g) => g.project_id === projectId);
      const g = mine.find((x) => x.id === nameOrId) ?? mine.find((x) => x.name === nameOrId);
      return g ? { id: g.id, name: String(g.name) } : undefined;
    },

    setPortSecurityGroups(portId, groupIds) {
      const p = model.port(portId);
      model.updatePort(p, { security_groups: groupIds });
    },

    serverPorts(serverId) {
      return [...model.ports.values()]
        .filter((p) => p.device_id === serverId && String(p.device_owner).startsWith('compute:'))
        .map((p) => ({
          portId: p.id,
          networkId: String(p.network_id),
          networkName: String(model.networks.get(String(p.network_id))?.name ?? ''),
          macAddress: String(p.mac_address),
          status: String(p.status),
          fixedIps: (p.fixed_ips as FixedIp[]).map((f) => ({ ...f })),
          floatingIps: [...model.floatingIps.values()]
            .filter((f) => f.port_id === p.id)
            .map((f) => String(f.floating_ip_address)),
          securityGroups: (p.security_groups as string[]).map((g) =>
            String(model.securityGroups.get(g)?.name ?? g),
          ),
        }));
    },
  };
  return api;
}
