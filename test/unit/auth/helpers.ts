/** Shared set-up of the auth tests: the Keystone stand-in, users, tokens and a tiny API behind the middleware. */
import { Writable } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pino } from 'pino';
import {
  type AuthMiddleware,
  type AuthMiddlewareOptions,
  createAuthMiddleware,
} from '../../../services/api/auth/index.js';
import type { RunningKeystone } from '../../../services/cloudsim/keystone.js';
import { type Listening, listen } from '../../../services/cloudsim/server.js';
import { DragonError } from '../../../services/common/errors.js';
import type { Logger } from '../../../services/common/log.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

export async function issueToken(
  ks: RunningKeystone,
  user: string,
  password: string,
  scope: unknown = { project: { name: user, domain: { name: 'Default' } } },
): Promise<string> {
  const res = await fetch(`${ks.url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { name: 'Default' }, password } },
        },
        scope,
      },
    }),
  });
  if (res.status !== 201) throw new Error(`token issue failed: ${res.status}`);
  return res.headers.get('x-subject-token')!;
}

/** A project-scoped user with the member role (reader implied), like a tenant's user. */
export function addTenantUser(ks: RunningKeystone, name: string, password: string, role = 'member') {
  const project = ks.store.createProject({ name });
  const user = ks.store.createUser({ name, password, defaultProjectId: project.id });
  ks.store.grant(user.id, ks.store.findRole(role)!.id, { projectId: project.id });
  return { project, user };
}

export function dragonSession(ks: RunningKeystone): KeystoneSession {
  return new KeystoneSession({
    authUrl: `${ks.url}/v3`,
    auth: { type: 'password', username: 'dragon', password: 'DRAGON_PASS', userDomainName: 'Default' },
    scope: { projectName: 'service', projectDomainName: 'Default' },
    retries: 1,
    retryDelayMs: 5,
    timeoutMs: 2000,
  });
}

export interface LogCapture {
  lines: string[];
  logger: Logger;
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) as unknown as Logger };
}

export interface Api {
  url: string;
  mw: AuthMiddleware;
  close(): Promise<void>;
}

/** A tiny API: GET /whoami answers req.context; DragonErrors become OpenStack error bodies. */
export async function startApi(opts: AuthMiddlewareOptions): Promise<Api> {
  const app = express();
  const mw = createAuthMiddleware(opts);
  app.use(mw);
  app.get('/whoami', (req, res) => {
    res.json(req.context);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof DragonError ? err : new DragonError(500, 'unexpected');
    res
      .status(e.code)
      .set(e.headers)
      .json({
        error: { code: e.code, title: e.title, message: e.message, request_id: res.locals.requestId },
      });
  });
  const l: Listening = await listen(app);
  return {
    url: l.url,
    mw,
    close: async () => {
      await mw.close();
      await l.close();
    },
  };
}

export const whoami = (api: Api, headers: Record<string, string> = {}) =>
  fetch(`${api.url}/whoami`, { headers });

/** The JSON body of a test response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON.
export const json = async (res: globalThis.Response): Promise<any> => res.json();
