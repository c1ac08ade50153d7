/** Nova's server metadata routes (the whole set and single keys). */
import type { Request, Router } from 'express';
import type { NovaContext } from './nova-context.js';
import { NovaFault } from './nova-servers.js';
import { callerOf } from './sim-auth.js';

export function metadataRoutes(api: Router, ctx: NovaContext): void {
  const { store, findServer } = ctx;

  const metadataBody = (req: Request, key: 'metadata' | 'meta'): Record<string, string> => {
    const m = (req.body as Record<string, unknown> | undefined)?.[key];
    if (typeof m !== 'object' || m === null || Object.values(m).some((v) => typeof v !== 'string'))
      throw new NovaFault(400, `Invalid input for field/attribute ${key}. Values must be strings.`);
    return m as Record<string, string>;
  };
  api.get('/servers/:id/metadata', (req, res) => {
    res.json({ metadata: findServer(callerOf(res), req.params.id as string).metadata });
  });
  api.post('/servers/:id/metadata', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    s.metadata = { ...s.metadata, ...metadataBody(req, 'metadata') };
    store.touch(s);
    res.json({ metadata: s.metadata });
  });
  api.put('/servers/:id/metadata', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    s.metadata = { ...metadataBody(req, 'metadata') };
    store.touch(s);
    res.json({ metadata: s.metadata });
  });
  api.get('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const k = req.params.key as string;
    if (!(k in s.metadata)) throw new NovaFault(404, 'Metadata item was not found');
    res.json({ meta: { [k]: s.metadata[k] } });
  });
  api.put('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const meta = metadataBody(req, 'meta');
    const k = req.params.key as string;
    if (Object.keys(meta).length !== 1 || !(k in meta))
      throw new NovaFault(400, 'Request body and URI mismatch');
    s.metadata[k] = meta[k];
    store.touch(s);
    res.json({ meta: { [k]: meta[k] } });
  });
  api.delete('/servers/:id/metadata/:key', (req, res) => {
    const s = findServer(callerOf(res), req.params.id as string);
    const k = req.params.key as string;
    if (!(k in s.metadata)) throw new NovaFault(404, 'Metadata item was not found');
    delete s.metadata[k];
    store.touch(s);
    res.status(204).end();
  });
}
