/**
 * Heat's REST API v1 (orchestration), `${base}/v1/%(tenant_id)s` in the
 * catalog: template validate, stacks create/list/show/update/delete with the
 * by-name lookup redirect, resources, events, outputs, template.
 * Errors in Heat's own body format (see errors.ts).
 */
import express, { type Request, type Response } from 'express';
import { callerOf } from '../sim-auth.js';
import type { SimService, SiteContext } from '../site.js';
import { HeatEngine, type HeatEvent, type Stack, type StackRequest, type StackResource } from './engine.js';
import { HeatError, sendHeatError } from './errors.js';

export interface HeatServiceApi extends SimService {
  engine: HeatEngine;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Sub-collections reachable by stack name alone, answered with a redirect to the canonical URL. */
const LOOKUP_SUFFIXES = new Set(['resources', 'events', 'outputs', 'template']);

export function heatService(site: SiteContext): HeatServiceApi {
  const engine = new HeatEngine(site);
  const router = express.Router();
  router.use(express.json({ limit: '20mb' }));

  const wrap =
    (h: Handler): Handler =>
    async (req, res) => {
      try {
        const caller = callerOf(res);
        const tenant = req.params.tenant as string;
        if (tenant && tenant !== caller.projectId && !caller.isAdmin)
          throw new HeatError('Forbidden', 'You are not authorized to use this project.', 403);
        await h(req, res);
      } catch (err) {
        sendHeatError(res, err);
      }
    };

  const base = (req: Request) => `${req.protocol}://${req.get('host')}/v1/${req.params.tenant as string}`;
  const stackUrl = (req: Request, s: Stack) => `${base(req)}/stacks/${encodeURIComponent(s.name)}/${s.id}`;
  const links = (href: string, rel = 'self') => [{ href, rel }];

  /** The stack of `/stacks/{name}/{id}`: both must match; a deleted stack is still found by id. */
  const stackOf = (req: Request): Stack => {
    const s = engine.find(req.params.tenant as string, req.params.id as string, { deleted: true });
    if (s.name !== req.params.name && s.id !== req.params.name)
      throw new HeatError(
        'EntityNotFound',
        `The Stack (${req.params.name as string}) could not be found.`,
        404,
      );
    return s;
  };

  const paramString = (v: unknown) =>
    Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);

  const stackBody = (req: Request, s: Stack) => {
    const parameters: Record<string, string> = {
      'OS::stack_id': s.id,
      'OS::stack_name': s.name,
      'OS::project_id': s.projectId,
    };
    for (const [k, v] of Object.entries(s.params))
      parameters[k] = s.template.parameters[k]?.hidden ? '******' : paramString(v);
    return {
      id: s.id,
      stack_name: s.name,
      description: s.template.description,
      template_description: s.template.description,
      creation_time: s.created,
      updated_time: s.updated,
      deletion_time: s.deleted,
      stack_status: `${s.action}_${s.status}`,
      stack_status_reason: s.reason,
      stack_owner: null,
      stack_user_project_id: s.projectId,
      project: s.projectId,
      parent: null,
      disable_rollback: s.disableRollback,
      timeout_mins: s.timeoutMins,
      capabilities: [],
      notification_topics: [],
      tags: s.tags,
      parameters,
      links: links(stackUrl(req, s)),
    };
  };

  const resourceBody = (req: Request, s: Stack, r: StackResource) => ({
    resource_name: r.name,
    logical_resource_id: r.name,
    physical_resource_id: r.physicalId,
    resource_type: r.type,
    resource_status: `${r.action}_${r.status}`,
    resource_status_reason: r.reason,
    creation_time: r.created,
    updated_time: r.updated ?? r.created,
    required_by: s.graph.requires.has(r.name) ? s.graph.requiredBy(r.name) : [],
    links: [
      { href: `${stackUrl(req, s)}/resources/${encodeURIComponent(r.name)}`, rel: 'self' },
      { href: stackUrl(req, s), rel: 'stack' },
    ],
  });

  const eventBody = (req: Request, s: Stack, e: HeatEvent) => {
    const resUrl = `${stackUrl(req, s)}/resources/${encodeURIComponent(e.resourceName)}`;
    return {
      id: e.id,
      event_time: e.time,
      resource_name: e.resourceName,
      logical_resource_id: e.resourceName,
      physical_resource_id: e.physicalId,
      resource_status: e.status,
      resource_status_reason: e.reason,
      links: [
        { href: `${resUrl}/events/${e.id}`, rel: 'self' },
        { href: resUrl, rel: 'resource' },
        { href: stackUrl(req, s), rel: 'stack' },
      ],
    };
  };

  const body = (req: Request): StackRequest => {
    const b = (req.body ?? {}) as StackRequest & { template_url?: string };
    if (b.template === undefined && b.template_url)
      throw new HeatError(
        'HTTPBadRequest',
        'template_url is not supported by this Heat; send the template itself',
      );
    return b;
  };

  router.get('/', (req, res) => {
    res.status(300).json({
      versions: [
        {
          id: 'v1.0',
          status: 'CURRENT',
          links: [{ href: `${req.protocol}://${req.get('host')}/v1/`, rel: 'self' }],
        },
      ],
    });
  });

  // Template validation (api-ref: "Validate template").
  router.post(
    '/v1/:tenant/validate',
    site.auth,
    wrap((req, res) => {
      res.json(engine.validate(body(req)));
    }),
  );

  router.get(
    '/v1/:tenant/resource_types',
    site.auth,
    wrap((_req, res) => {
      res.json({ resource_types: Object.keys(engine.types).sort() });
    }),
  );

  // Stacks (api-ref: "Stacks").
  router.post(
    '/v1/:tenant/stacks',
    site.auth,
    wrap((req, res) => {
      const s = engine.create(callerOf(res), body(req));
      res
        .status(201)
        .location(stackUrl(req, s))
        .json({ stack: { id: s.id, links: links(stackUrl(req, s)) } });
    }),
  );

  router.get(
    '/v1/:tenant/stacks',
    site.auth,
    wrap((req, res) => {
      const caller = callerOf(res);
      const all = req.query.global_tenant === 'true' && caller.isAdmin;
      let stacks = engine.list(all ? undefined : (req.params.tenant as string));
      const q = req.query as Record<string, string | undefined>;
      if (q.name) stacks = stacks.filter((s) => s.name === q.name);
      if (q.status)
        stacks = stacks.filter((s) => s.status === q.status || `${s.action}_${s.status}` === q.status);
      if (q.id) stacks = stacks.filter((s) => s.id === q.id);
      stacks.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
      if (q.sort_dir === 'asc') stacks.reverse();
      if (q.marker) {
        const i = stacks.findIndex((s) => s.id === q.marker);
        stacks = i < 0 ? stacks : stacks.slice(i + 1);
      }
      if (q.limit) stacks = stacks.slice(0, Number(q.limit));
      res.json({
        stacks: stacks.map((s) => {
          const { parameters: _p, capabilities: _c, notification_topics: _n, ...summary } = stackBody(req, s);
          return summary;
        }),
      });
    }),
  );

  // Lookup by name (or id) alone: Heat answers 302 to the canonical /stacks/{name}/{id}[/...] URL.
  const lookup = wrap((req, res) => {
    const s = engine.find(req.params.tenant as string, req.params.name as string);
    const suffix = req.params.suffix ? `/${req.params.suffix as string}` : '';
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    res.redirect(302, `${stackUrl(req, s)}${suffix}${query}`);
  });
  router.all('/v1/:tenant/stacks/:name', site.auth, lookup);

  router.get(
    '/v1/:tenant/stacks/:name/:id',
    site.auth,
    wrap(async (req, res) => {
      if (LOOKUP_SUFFIXES.has(req.params.id as string)) {
        req.params.suffix = req.params.id;
        return lookup(req, res);
      }
      const s = stackOf(req);
      const shown: Record<string, unknown> = stackBody(req, s);
      // resolve_outputs=False (Heat API): the status without evaluating every output, for pollers.
      const resolveOutputs = !/^(false|0|no|off)$/i.test(String(req.query.resolve_outputs ?? 'true'));
      if (resolveOutputs && !s.deleted && !(s.action === 'CREATE' && s.status === 'IN_PROGRESS'))
        shown.outputs = await engine.outputs(s, callerOf(res).token);
      res.json({ stack: shown });
    }),
  );

  const update = (patch: boolean) =>
    wrap((req, res) => {
      const s = stackOf(req);
      if (s.deleted) throw new HeatError('EntityNotFound', `The Stack (${s.name}) could not be found.`, 404);
      engine.update(callerOf(res), s, body(req), patch);
      res.status(202).end();
    });
  router.put('/v1/:tenant/stacks/:name/:id', site.auth, update(false));
  router.patch('/v1/:tenant/stacks/:name/:id', site.auth, update(true));

  router.delete(
    '/v1/:tenant/stacks/:name/:id',
    site.auth,
    wrap((req, res) => {
      const s = stackOf(req);
      if (s.deleted) throw new HeatError('EntityNotFound', `The Stack (${s.name}) could not be found.`, 404);
      engine.delete(callerOf(res), s);
      res.status(204).end();
    }),
  );

  router.get(
    '/v1/:tenant/stacks/:name/:id/template',
    site.auth,
    wrap((req, res) => {
      res.json(stackOf(req).template.raw);
    }),
  );

  router.get(
    '/v1/:tenant/stacks/:name/:id/outputs',
    site.auth,
    wrap((req, res) => {
      const s = stackOf(req);
      res.json({
        outputs: Object.entries(s.template.outputs).map(([k, o]) => ({
          output_key: k,
          description: o.description,
        })),
      });
    }),
  );

  router.get(
    '/v1/:tenant/stacks/:name/:id/outputs/:key',
    site.auth,
    wrap(async (req, res) => {
      const s = stackOf(req);
      const [o] = await engine.outputs(s, callerOf(res).token, req.params.key as string);
      if (!o)
        throw new HeatError('NotFound', `Specified output key ${req.params.key as string} not found.`, 404);
      res.json({ output: o });
    }),
  );

  // Resources (api-ref: "Stack resources").
  router.get(
    '/v1/:tenant/stacks/:name/:id/resources',
    site.auth,
    wrap((req, res) => {
      const s = stackOf(req);
      let list = [...s.resources.values()];
      const q = req.query as Record<string, string | undefined>;
      if (q.type) list = list.filter((r) => r.type === q.type);
      if (q.status)
        list = list.filter((r) => r.status === q.status || `${r.action}_${r.status}` === q.status);
      if (q.name) list = list.filter((r) => r.name === q.name);
      res.json({ resources: list.map((r) => resourceBody(req, s, r)) });
    }),
  );

  const resourceOf = (s: Stack, name: string): StackResource => {
    const r = s.resources.get(name);
    if (!r) throw new HeatError('EntityNotFound', `The Resource (${name}) could not be found.`, 404);
    return r;
  };

  router.get(
    '/v1/:tenant/stacks/:name/:id/resources/:resource',
    site.auth,
    wrap(async (req, res) => {
      const s = stackOf(req);
      const r = resourceOf(s, req.params.resource as string);
      res.json({
        resource: {
          ...resourceBody(req, s, r),
          description: '',
          attributes: await engine.attributes(s, r, callerOf(res).token),
        },
      });
    }),
  );

  // Events (api-ref: "Events").
  const listEvents = (resource?: string) =>
    wrap((req, res) => {
      const s = stackOf(req);
      if (resource) resourceOf(s, req.params.resource as string);
      const q = req.query as Record<string, string | undefined>;
      let events = s.events.filter((e) => !resource || (!e.stack && e.resourceName === req.params.resource));
      if (q.resource_name) events = events.filter((e) => e.resourceName === q.resource_name);
      if (q.resource_status)
        events = events.filter(
          (e) => e.status === q.resource_status || e.status.endsWith(`_${q.resource_status}`),
        );
      if (q.resource_action) events = events.filter((e) => e.status.startsWith(`${q.resource_action}_`));
      if (q.sort_dir === 'desc') events = [...events].reverse();
      if (q.marker) {
        const i = events.findIndex((e) => e.id === q.marker);
        events = i < 0 ? events : events.slice(i + 1);
      }
      if (q.limit) events = events.slice(0, Number(q.limit));
      res.json({ events: events.map((e) => eventBody(req, s, e)) });
    });
  router.get('/v1/:tenant/stacks/:name/:id/events', site.auth, listEvents());
  router.get('/v1/:tenant/stacks/:name/:id/resources/:resource/events', site.auth, listEvents('resource'));
  router.get(
    '/v1/:tenant/stacks/:name/:id/resources/:resource/events/:event',
    site.auth,
    wrap((req, res) => {
      const s = stackOf(req);
      const e = s.events.find((x) => x.id === req.params.event && x.resourceName === req.params.resource);
      if (!e)
        throw new HeatError(
          'EntityNotFound',
          `The Event (${req.params.event as string}) could not be found.`,
          404,
        );
      res.json({ event: eventBody(req, s, e) });
    }),
  );

  router.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    // Body parser errors (malformed JSON) in Heat's format.
    sendHeatError(res, new HeatError('HTTPBadRequest', err instanceof Error ? err.message : String(err)));
  });

  return {
    type: 'orchestration',
    name: 'heat',
    router,
    engine,
    catalogUrl: (b: string) => `${b}/v1/%(tenant_id)s`,
    stop: () => engine.stop(),
  };
}
