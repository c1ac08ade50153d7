/**
 * A tiny fake of Keystone's POST /v3/auth/tokens for CLI tests: one user,
 * one application credential, a catalog given by the test. The fuller
 * Keystone stand-in lives with the cloud simulator.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';

export const DEMO = {
  username: 'demo',
  userId: 'user-demo',
  password: 'secret-password',
  domain: 'Default',
  project: 'demo',
  projectId: 'project-demo',
  appCredId: 'appcred-id',
  appCredName: 'appcred-name',
  appCredSecret: 'appcred-secret',
};

interface DomainRef {
  id?: string;
  name?: string;
}

/** The parts of a POST /v3/auth/tokens body this fake looks at. */
export interface AuthRequestBody {
  auth: {
    identity: {
      methods: string[];
      password?: { user: { id?: string; name?: string; domain?: DomainRef; password?: string } };
      token?: { id: string };
      application_credential?: { id?: string; name?: string; secret?: string; user?: unknown };
    };
    scope?: { project?: { id?: string; name?: string; domain?: DomainRef } };
  };
}

export interface CatalogEntry {
  region: string;
  url: string;
  interface?: string;
}

export interface FakeKeystone {
  url: string;
  /** every body POSTed to /v3/auth/tokens, for asserting what the client sent */
  authRequests: AuthRequestBody[];
  close(): Promise<void>;
}

export async function startFakeKeystone(opts: { tokens: Set<string>; catalog: CatalogEntry[] }) {
  const app = express();
  app.use(express.json());
  const authRequests: AuthRequestBody[] = [];

  const unauthorized = (res: express.Response) =>
    res
      .status(401)
      .setHeader('x-openstack-request-id', `req-${randomUUID()}`)
      .json({
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });

  app.post('/v3/auth/tokens', (req, res) => {
    const body = req.body as AuthRequestBody;
    authRequests.push(body);
    const auth = body?.auth ?? ({} as AuthRequestBody['auth']);
    const id = auth.identity ?? { methods: [] };
    const methods = id.methods ?? [];
    let ok = false;
    if (methods[0] === 'password') {
      const u = id.password?.user ?? {};
      const userOk =
        u.id === DEMO.userId ||
        (u.name === DEMO.username && (u.domain?.name === DEMO.domain || u.domain?.id === 'default'));
      ok = userOk && u.password === DEMO.password;
    } else if (methods[0] === 'token') {
      ok = opts.tokens.has(id.token?.id ?? '');
    } else if (methods[0] === 'application_credential') {
      const c = id.application_credential ?? {};
      ok = (c.id === DEMO.appCredId || c.name === DEMO.appCredName) && c.secret === DEMO.appCredSecret;
    }
    if (!ok) return unauthorized(res);
    const scoped = Boolean(auth.scope?.project) || methods[0] === 'application_credential';
    const token = `tok-${randomUUID()}`;
    opts.tokens.add(token);
    const catalog = [
      {
        type: 'identity',
        name: 'keystone',
        endpoints: [{ interface: 'public', region: 'RegionOne', url: 'x' }],
      },
      {
        type: 'disaster-recovery',
        name: 'dragon',
        endpoints: opts.catalog.map((e) => ({
          id: randomUUID(),
          interface: e.interface ?? 'public',
          region: e.region,
          region_id: e.region,
          url: e.url,
        })),
      },
    ];
    res
      .status(201)
      .setHeader('x-subject-token', token)
      .json({ token: { methods, expires_at: '2099-01-01T00:00:00Z', ...(scoped ? { catalog } : {}) } });
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const fake: FakeKeystone = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}
