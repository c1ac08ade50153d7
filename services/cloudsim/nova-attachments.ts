/**
 * Nova's volume attachments (os-volume_attachments, through the site's
 * Cinder) and port interfaces (os-interface, through the site's Neutron).
 */
import type { Response, Router } from 'express';
import type { NetworkServiceApi } from './contracts.js';
import type { NovaContext } from './nova-context.js';
import { atLeast } from './nova-microversion.js';
import { NovaFault, type ServerVolume, type SimServer } from './nova-servers.js';
import { callerOf } from './sim-auth.js';

export function attachmentRoutes(api: Router, ctx: NovaContext): void {
  const { store, network, volumes, findServer, requireState } = ctx;

  // ---- volume attachments ---------------------------------------------------------------------

  const attachmentView = (res: Response, s: SimServer, v: ServerVolume) => ({
    id: v.volumeId,
    serverId: s.id,
    volumeId: v.volumeId,
    device: v.device,
    ...(atLeast(res, 70) ? { tag: v.tag } : {}),
    ...(atLeast(res, 79) ? { delete_on_termination: v.deleteOnTermination } : {}),
  });
  const attachable: SimServer['vmState'][] = ['active', 'stopped', 'paused'];

  api.get('/servers/:id/os-volume_attachments', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    res.json({ volumeAttachments: s.volumes.map((v) => attachmentView(res, s, v)) });
  });
  api.get('/servers/:id/os-volume_attachments/:volumeId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const v = s.volumes.find((x) => x.volumeId === req.params.volumeId);
    if (!v) throw new NovaFault(404, `Volume ${req.params.volumeId} is not attached to server ${s.id}`);
    res.json({ volumeAttachment: attachmentView(res, s, v) });
  });
  api.post('/servers/:id/os-volume_attachments', (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const b = (req.body as { volumeAttachment?: Record<string, unknown> })?.volumeAttachment;
    if (!b || typeof b.volumeId !== 'string')
      throw new NovaFault(
        400,
        "Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property",
      );
    requireState(s, 'attach_volume', attachable);
    const vol = volumes().getVolume(b.volumeId);
    if (!vol || (vol.project_id !== c.projectId && !c.isAdmin))
      throw new NovaFault(404, `Volume ${b.volumeId} could not be found.`);
    if (s.volumes.some((v) => v.volumeId === vol.id))
      throw new NovaFault(409, `Volume ${vol.id} is already attached to the instance ${s.id}`);
    if (vol.status !== 'available')
      throw new NovaFault(
        400,
        `Invalid volume: volume ${vol.id} status must be available, but current status is: ${vol.status}`,
      );
    const device = typeof b.device === 'string' && b.device ? b.device : store.nextDevice(s);
    try {
      volumes().attach(vol.id, s.id, device);
    } catch (e) {
      throw new NovaFault(400, `Invalid volume: ${(e as Error).message}`);
    }
    const v: ServerVolume = {
      volumeId: vol.id,
      device,
      deleteOnTermination: b.delete_on_termination === true,
      tag: typeof b.tag === 'string' ? b.tag : null,
      root: false,
    };
    s.volumes.push(v);
    store.touch(s);
    res.json({ volumeAttachment: attachmentView(res, s, v) });
  });
  api.delete('/servers/:id/os-volume_attachments/:volumeId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const v = s.volumes.find((x) => x.volumeId === req.params.volumeId);
    if (!v) throw new NovaFault(404, `Volume ${req.params.volumeId} is not attached to server ${s.id}`);
    if (v.root) throw new NovaFault(400, 'Cannot detach a root device volume');
    requireState(s, 'detach_volume', attachable);
    volumes().detach(v.volumeId, s.id);
    s.volumes = s.volumes.filter((x) => x !== v);
    store.touch(s);
    res.status(202).end();
  });

  // ---- interfaces -----------------------------------------------------------------------------

  const interfaceView = (res: Response, p: ReturnType<NetworkServiceApi['serverPorts']>[number]) => ({
    port_state: p.status,
    fixed_ips: p.fixedIps,
    mac_addr: p.macAddress,
    net_id: p.networkId,
    port_id: p.portId,
    ...(atLeast(res, 70) ? { tag: null } : {}),
  });
  api.get('/servers/:id/os-interface', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    res.json({
      interfaceAttachments: network()
        .serverPorts(s.id)
        .map((p) => interfaceView(res, p)),
    });
  });
  api.get('/servers/:id/os-interface/:portId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === req.params.portId);
    if (!p) throw new NovaFault(404, `Port ${req.params.portId} is not attached`);
    res.json({ interfaceAttachment: interfaceView(res, p) });
  });
  api.post('/servers/:id/os-interface', (req, res) => {
    const c = callerOf(res);
    const s = findServer(c, req.params.id as string);
    const b = (req.body as { interfaceAttachment?: Record<string, unknown> })?.interfaceAttachment ?? {};
    requireState(s, 'attach_interface', attachable);
    let request: { networkId?: string; portId?: string; fixedIp?: string };
    if (typeof b.port_id === 'string') {
      const p = network().findPort(b.port_id);
      if (!p || (p.projectId !== c.projectId && !c.isAdmin))
        throw new NovaFault(404, `Port ${b.port_id} could not be found.`);
      if (p.deviceId) throw new NovaFault(409, `Port ${b.port_id} is still in use.`);
      request = { portId: b.port_id };
    } else {
      const netId = typeof b.net_id === 'string' ? b.net_id : network().usableNetworks(c.projectId)[0]?.id;
      if (!netId || !network().findNetwork(c.projectId, netId))
        throw new NovaFault(404, `Network ${String(netId)} could not be found.`);
      const fixed = Array.isArray(b.fixed_ips)
        ? (b.fixed_ips as Array<{ ip_address?: string }>)[0]?.ip_address
        : undefined;
      request = { networkId: netId, fixedIp: fixed };
    }
    let bound: ReturnType<NetworkServiceApi['bindPort']>;
    try {
      bound = network().bindPort(s.projectId, s.id, request);
    } catch (e) {
      const status = (e as { status?: number }).status;
      throw new NovaFault(status === 409 ? 409 : 400, (e as Error).message);
    }
    store.touch(s);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === bound.portId);
    res.json({ interfaceAttachment: p ? interfaceView(res, p) : {} });
  });
  api.delete('/servers/:id/os-interface/:portId', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    requireState(s, 'detach_interface', attachable);
    const p = network()
      .serverPorts(s.id)
      .find((x) => x.portId === req.params.portId);
    if (!p) throw new NovaFault(404, `Port ${req.params.portId} is not attached`);
    network().releasePort(s.id, p.portId);
    store.touch(s);
    res.status(202).end();
  });
}
