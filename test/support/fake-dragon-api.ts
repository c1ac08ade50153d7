/**
 * A small in-memory fake of Dragon's REST API v1 (docs/api-v1.md) for CLI
 * tests: just enough behaviour to see what a client does, nothing more.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

type Row = Record<string, unknown> & { id: string };

export interface FakeExecution extends Row {
  status: string;
  policy_id: string | null;
  steps: Row[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeDragon {
  url: string;
  region: string;
  policies: Map<string, Row>;
  resources: Map<string, Row[]>;
  executions: Map<string, FakeExecution>;
  services: Row[];
  actions: Row[];
  requests: RecordedRequest[];
  /** States an execution passes through, one per GET of it, so --wait can be watched. */
  scripts: Map<string, Array<Partial<FakeExecution>>>;
  addPolicy(fields: Partial<Row> & { name: string }): Row;
  addExecution(fields: Partial<FakeExecution>): FakeExecution;
  close(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
};

export async function startFakeDragon(opts: {
  tokens: Set<string>;
  region: string;
  pageSize?: number;
  /** serve HTTPS with this key and certificate (PEM) */
  tls?: { key: string; cert: string };
}) {
  const app = express();
  app.use(express.json());
  const fake = {
    region: opts.region,
    policies: new Map<string, Row>(),
    resources: new Map<string, Row[]>(),
    executions: new Map<string, FakeExecution>(),
    services: [] as Row[],
    actions: [
      {
        name: 'server-image-copy',
        resource_type: 'OS::Nova::Server',
        description: 'Copy the original image of a server',
        version: '1.0',
        options_schema: { type: 'object', properties: { copy_data: { type: 'string' } } },
      },
      {
        name: 'volume-snapshot',
        resource_type: 'OS::Cinder::Volume',
        description: 'Snapshot a volume',
        version: '1.0',
        options_schema: { type: 'object' },
      },
    ] as unknown as Row[],
    requests: [] as RecordedRequest[],
    scripts: new Map<string, Array<Partial<FakeExecution>>>(),
  } as FakeDragon;

  fake.addPolicy = (fields) => {
    const row: Row = {
      id: randomUUID(),
      description: null,
      backup_site: null,
      status: 'active',
      project_id: 'project-demo',
      user_id: 'user-demo',
      resource_count: 0,
      created_at: now(),
      updated_at: null,
      ...fields,
    };
    fake.policies.set(row.id, row);
    fake.resources.set(row.id, []);
    return row;
  };
  fake.addExecution = (fields) => {
    const row = {
      id: randomUUID(),
      kind: 'protect',
      status: 'pending',
      progress: 0,
      progress_detail: null,
      error: null,
      policy_id: null,
      project_id: 'project-demo',
      user_id: 'user-demo',
      params: {},
      result: null,
      claimed_by: null,
      created_at: now(),
      updated_at: null,
      started_at: null,
      finished_at: null,
      steps: [],
      ...fields,
    } as FakeExecution;
    fake.executions.set(row.id, row);
    return row;
  };

  const fail = (_req: Request, res: Response, code: number, message: string) => {
    const requestId = res.getHeader('x-openstack-request-id') as string;
    res
      .status(code)
      .json({ error: { code, title: TITLES[code] ?? 'Error', message, request_id: requestId } });
  };

  app.use((req, res, next) => {
    res.setHeader('x-openstack-request-id', `req-${randomUUID()}`);
    fake.requests.push({
      method: req.method,
      path: req.path,
      query: { ...req.query },
      headers: { ...req.headers },
      body: req.body,
    });
    if (!opts.tokens.has(String(req.headers['x-auth-token'] ?? ''))) {
      fail(req, res, 401, 'The request you have made requires authentication.');
      return;
    }
    next();
  });

  /** limit/marker paging with a next link, as the contract describes. */
  const page = (req: Request, res: Response, collection: string, rows: Row[]) => {
    const limit = Number(req.query.limit ?? opts.pageSize ?? 100);
    let start = 0;
    if (req.query.marker) start = rows.findIndex((r) => r.id === req.query.marker) + 1;
    const slice = rows.slice(start, start + limit);
    const body: Record<string, unknown> = { [collection]: slice };
    if (start + limit < rows.length) {
      const next = new URL(`http://fake${req.path}`);
      next.searchParams.set('limit', String(limit));
      next.searchParams.set('marker', slice[slice.length - 1].id);
      body[`${collection}_links`] = [{ rel: 'next', href: `${fake.url}${next.pathname}${next.search}` }];
    }
    res.json(body);
  };

  const policyOr404 = (req: Request, res: Response) => {
    const p = fake.policies.get(String(req.params.id));
    if (!p) fail(req, res, 404, `Policy ${req.params.id} could not be found.`);
    return p;
  };

  app.get('/v1/actions', (_req, res) => {
    res.json({ actions: fake.actions });
  });
  app.get('/v1/actions/:name', (req, res) => {
    const a = fake.actions.find((x) => x.name === req.params.name);
    if (!a) return fail(req, res, 404, `Action ${req.params.name} could not be found.`);
    res.json({ action: a });
  });

  app.get('/v1/policies', (req, res) => {
    let rows = [...fake.policies.values()];
    if (req.query.name) rows = rows.filter((p) => p.name === req.query.name);
    if (req.query.status) rows = rows.filter((p) => p.status === req.query.status);
    page(req, res, 'policies', rows);
  });
  app.post('/v1/policies', (req, res) => {
    const body = req.body?.policy;
    if (!body?.name) return fail(req, res, 400, "'name' is a required property");
    if ([...fake.policies.values()].some((p) => p.name === body.name)) {
      return fail(req, res, 409, `A policy named ${body.name} already exists.`);
    }
    const row = fake.addPolicy({
      name: body.name,
      description: body.description ?? null,
      backup_site: body.backup_site ?? null,
      bank_readers: body.bank_readers ?? [],
    });
    res.status(201).setHeader('location', `${fake.url}/v1/policies/${row.id}`).json({ policy: row });
  });
  app.get('/v1/policies/:id', (req, res) => {
    const p = policyOr404(req, res);
    if (p) res.json({ policy: p });
  });
  app.patch('/v1/policies/:id', (req, res) => {
    const p = policyOr404(req, res);
    if (!p) return;
    for (const key of ['name', 'description', 'backup_site', 'bank_readers']) {
      if (key in (req.body?.policy ?? {})) p[key] = req.body.policy[key];
    }
    p.updated_at = now();
    res.json({ policy: p });
  });
  app.delete('/v1/policies/:id', (req, res) => {
    const p = policyOr404(req, res);
    if (!p) return;
    const busy = [...fake.executions.values()].some(
      (e) => e.policy_id === p.id && (e.status === 'pending' || e.status === 'running'),
    );
    if (busy) return fail(req, res, 409, `Policy ${p.id} has an execution in progress.`);
    fake.policies.delete(p.id);
    res.status(204).end();
  });

  app.get('/v1/policies/:id/resources', (req, res) => {
    const p = policyOr404(req, res);
    if (p) res.json({ resources: fake.resources.get(p.id) });
  });
  app.post('/v1/policies/:id/resources', (req, res) => {
    const p = policyOr404(req, res);
    if (!p) return;
    const body = req.body?.resource ?? {};
    const action = fake.actions.find((a) => a.name === body.action);
    if (!action) return fail(req, res, 400, `Action ${body.action} is not loaded.`);
    if (action.resource_type !== body.resource_type) {
      return fail(req, res, 400, `Action ${body.action} does not protect ${body.resource_type}.`);
    }
    const list = fake.resources.get(p.id) ?? [];
    if (list.some((r) => r.resource_id === body.resource_id)) {
      return fail(req, res, 409, `Resource ${body.resource_id} is already in policy ${p.id}.`);
    }
    const row: Row = {
      id: randomUUID(),
      policy_id: p.id,
      resource_id: body.resource_id,
      resource_type: body.resource_type,
      resource_name: body.resource_name ?? null,
      action: body.action,
      options: body.options ?? {},
      required: body.required ?? true,
      created_at: now(),
      updated_at: null,
    };
    list.push(row);
    p.resource_count = list.length;
    res.status(201).json({ resource: row });
  });
  const resourceOr404 = (req: Request, res: Response) => {
    const p = policyOr404(req, res);
    if (!p) return undefined;
    const r = fake.resources.get(p.id)?.find((x) => x.resource_id === req.params.rid);
    if (!r) fail(req, res, 404, `Resource ${req.params.rid} is not in policy ${p.id}.`);
    return r;
  };
  app.get('/v1/policies/:id/resources/:rid', (req, res) => {
    const r = resourceOr404(req, res);
    if (r) res.json({ resource: r });
  });
  app.patch('/v1/policies/:id/resources/:rid', (req, res) => {
    const r = resourceOr404(req, res);
    if (!r) return;
    for (const key of ['action', 'resource_name', 'options', 'required']) {
      if (key in (req.body?.resource ?? {})) r[key] = req.body.resource[key];
    }
    res.json({ resource: r });
  });
  app.delete('/v1/policies/:id/resources/:rid', (req, res) => {
    const r = resourceOr404(req, res);
    if (!r) return;
    const list = fake.resources.get(String(req.params.id)) ?? [];
    list.splice(list.indexOf(r), 1);
    res.status(204).end();
  });

  app.get('/v1/executions', (req, res) => {
    let rows = [...fake.executions.values()].map(({ steps: _steps, ...e }) => e as Row);
    for (const key of ['policy_id', 'status', 'kind']) {
      if (req.query[key]) rows = rows.filter((e) => e[key] === req.query[key]);
    }
    page(req, res, 'executions', rows);
  });
  app.get('/v1/executions/:id', (req, res) => {
    const e = fake.executions.get(String(req.params.id));
    if (!e) return fail(req, res, 404, `Execution ${req.params.id} could not be found.`);
    const next = fake.scripts.get(e.id)?.shift();
    if (next) Object.assign(e, next);
    res.json({ execution: e });
  });
  app.post('/v1/executions/:id/cancel', (req, res) => {
    const e = fake.executions.get(String(req.params.id));
    if (!e) return fail(req, res, 404, `Execution ${req.params.id} could not be found.`);
    if (['succeeded', 'failed', 'cancelled'].includes(e.status)) {
      return fail(req, res, 409, `Execution ${e.id} has already finished.`);
    }
    e.status = 'cancelling';
    res.status(202).setHeader('location', `${fake.url}/v1/executions/${e.id}`).json({ execution: e });
  });

  app.get('/v1/services', (req, res) => page(req, res, 'services', fake.services));

  const server = opts.tls ? createServer(opts.tls, app).listen(0, '127.0.0.1') : app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}
