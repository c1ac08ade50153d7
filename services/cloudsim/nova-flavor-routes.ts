/** Nova's flavor routes (list, detail, show, extra specs) over the seeded flavors. */
import type { Response, Router } from 'express';
import type { NovaContext } from './nova-context.js';
import type { SimFlavor } from './nova-flavors.js';
import { atLeast } from './nova-microversion.js';
import { NovaFault } from './nova-servers.js';

export function flavorRoutes(api: Router, ctx: NovaContext): void {
  const { flavors, link } = ctx;

  const flavorView = (res: Response, f: SimFlavor, detail: boolean) => {
    const v: Record<string, unknown> = { id: f.id, name: f.name, links: link('flavors', f.id) };
    if (atLeast(res, 55)) v.description = f.description;
    if (!detail) return v;
    Object.assign(v, {
      ram: f.ram,
      disk: f.disk,
      vcpus: f.vcpus,
      swap: atLeast(res, 75) ? f.swap : f.swap || '',
      'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
      'OS-FLV-DISABLED:disabled': false,
      rxtx_factor: f.rxtx_factor,
      'os-flavor-access:is_public': f.is_public,
    });
    if (atLeast(res, 61)) v.extra_specs = f.extra_specs;
    return v;
  };

  api.get('/flavors', (_req, res) => {
    res.json({ flavors: [...flavors.values()].map((f) => flavorView(res, f, false)) });
  });
  api.get('/flavors/detail', (_req, res) => {
    res.json({ flavors: [...flavors.values()].map((f) => flavorView(res, f, true)) });
  });
  api.get('/flavors/:id', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    res.json({ flavor: flavorView(res, f, true) });
  });

  // Clients before 2.61 (python-openstackclient's `flavor list`) read extra specs from here.
  api.get('/flavors/:id/os-extra_specs', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    res.json({ extra_specs: f.extra_specs });
  });
  api.get('/flavors/:id/os-extra_specs/:key', (req, res) => {
    const f = flavors.get(req.params.id as string);
    if (!f) throw new NovaFault(404, `Flavor ${req.params.id} could not be found.`);
    const k = req.params.key as string;
    if (!(k in f.extra_specs)) throw new NovaFault(404, `Flavor ${f.id} has no extra specs with key ${k}.`);
    res.json({ [k]: f.extra_specs[k] });
  });
}
