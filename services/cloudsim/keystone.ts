/**
 * The simulated Keystone (identity v3) of the two-site cloud simulator: the
 * HTTP face of the identity store and token provider. It answers what Dragon
 * and its tests use — token issue/validate/revoke, the catalog, and a small
 * CRUD subset — with Keystone's status codes, headers and body shapes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { FaultSwitch } from './faults.js';
import { type JwsKeys, loadJwsKeys } from './jws-keys.js';
import {
  authenticatedBy,
  baseUrl,
  callerOf,
  FORBIDDEN_MESSAGE,
  fmtProject,
  isAdmin,
  link,
  sendError,
} from './keystone-http.js';
import { mountIdentityResources } from './keystone-resources.js';
import { listen } from './server.js';
import { type BootstrapOptions, type BootstrapResult, IdentityError, IdentityStore } from './store.js';
import { TokenProvider } from './tokens.js';

export interface KeystoneAppOptions {
  store: IdentityStore;
  keys: JwsKeys;
  /** Token lifetime in seconds (default 3600). */
  tokenExpiration?: number;
  clock?: () => number;
  faults?: FaultSwitch;
}

export interface KeystoneApp {
  app: Express;
  provider: TokenProvider;
  faults: FaultSwitch;
}

function versionDoc(base: string) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function createKeystoneApp(opts: KeystoneAppOptions): KeystoneApp {
  const { store } = opts;
  const faults = opts.faults ?? new FaultSwitch();
  const provider = new TokenProvider(store, opts.keys, {
    expiration: opts.tokenExpiration,
    clock: opts.clock,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(faults.middleware());
  app.use(express.json({ limit: '1mb' }));

  // ---- version discovery ----------------------------------------------------------------------

  app.get('/', (req, res) => {
    res.status(300).json({ versions: { values: [versionDoc(baseUrl(req))] } });
  });
  app.get(['/v3', '/v3/'], (req, res) => {
    res.json({ version: versionDoc(baseUrl(req)) });
  });

  // ---- tokens ---------------------------------------------------------------------------------

  app.post('/v3/auth/tokens', async (req, res) => {
    const { token } = await provider.authenticate(req.body);
    const body = await provider.validate(token, { noCatalog: 'nocatalog' in req.query });
    res.status(201).set('X-Subject-Token', token).json(body);
  });

  const authenticated = authenticatedBy(provider);

  const validateToken = async (req: Request, res: Response, withBody: boolean) => {
    store.stats.validations++;
    const subject = req.get('X-Subject-Token');
    if (!subject) return sendError(res, 400, 'Expecting to find X-Subject-Token in request headers.');
    const caller = callerOf(res);
    const body = await provider.validate(subject, {
      allowExpired: ['1', 'true'].includes(String(req.query.allow_expired ?? '').toLowerCase()),
      noCatalog: 'nocatalog' in req.query,
    });
    const subjectUser = ((body.token as Record<string, unknown>).user as { id: string }).id;
    // identity:validate_token is admin, service, or the token's own user.
    const allowed =
      caller.roles.some((r) => r.name === 'admin' || r.name === 'service') || caller.user.id === subjectUser;
    if (!allowed) return sendError(res, 403, FORBIDDEN_MESSAGE);
    res.status(200).set('X-Subject-Token', subject);
    if (withBody) res.json(body);
    else res.end();
  };
  app.head('/v3/auth/tokens', authenticated, (req, res) => validateToken(req, res, false));
  app.get('/v3/auth/tokens', authenticated, (req, res) => validateToken(req, res, true));
  app.delete('/v3/auth/tokens', authenticated, async (req, res) => {
    const subject = req.get('X-Subject-Token');
    if (!subject) return sendError(res, 400, 'Expecting to find X-Subject-Token in request headers.');
    const caller = callerOf(res);
    const claims = await provider.verify(subject);
    if (!isAdmin(caller) && caller.user.id !== claims.sub && !caller.roles.some((r) => r.name === 'service'))
      return sendError(res, 403, FORBIDDEN_MESSAGE);
    await provider.revoke(subject);
    res.status(204).end();
  });

  app.get('/v3/auth/catalog', authenticated, (req, res) => {
    const c = callerOf(res);
    res.json({ catalog: store.catalogFor(c.claims.openstack_project_id), links: link(req, 'auth/catalog') });
  });
  app.get('/v3/auth/projects', authenticated, (req, res) => {
    const userId = callerOf(res).user.id;
    const projects = [...store.projects.values()].filter(
      (p) => store.effectiveRoles(userId, { projectId: p.id }).length > 0,
    );
    res.json({ projects: projects.map((p) => fmtProject(req, p)), links: link(req, 'auth/projects') });
  });

  mountIdentityResources(app, store, authenticated);

  // ---- errors ---------------------------------------------------------------------------------

  app.use((_req: Request, res: Response) => {
    sendError(res, 404, 'The resource could not be found.');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof IdentityError) return sendError(res, err.code, err.message);
    const status = (err as { status?: number }).status;
    if (status === 400) return sendError(res, 400, 'The request body is not valid JSON.');
    sendError(res, 500, 'An unexpected error prevented the server from fulfilling your request.');
  });

  return { app, provider, faults };
}

export interface StartKeystoneOptions {
  port?: number;
  /** JWS key repository; a fresh temporary one when omitted. Keys are generated when missing. */
  keyDir?: string;
  tokenExpiration?: number;
  clock?: () => number;
  /** Seed admin/service/dragon identities and the identity endpoint; `false` leaves the store empty. */
  bootstrap?: BootstrapOptions | false;
  store?: IdentityStore;
}

export interface RunningKeystone {
  url: string;
  app: Express;
  store: IdentityStore;
  provider: TokenProvider;
  keyDir: string;
  faults: FaultSwitch;
  /** What bootstrap created (undefined with `bootstrap: false`). */
  seed?: BootstrapResult;
  /** Makes every request fail: `true`/'reset' drops the connection, '503' answers Service Unavailable. */
  setDown(down: boolean | 'reset' | '503'): void;
  close(): Promise<void>;
}

export async function startKeystone(opts: StartKeystoneOptions = {}): Promise<RunningKeystone> {
  const keyDir = opts.keyDir ?? mkdtempSync(join(tmpdir(), 'cloudsim-jws-'));
  const keys = await loadJwsKeys(keyDir);
  const store = opts.store ?? new IdentityStore();
  const { app, provider, faults } = createKeystoneApp({
    store,
    keys,
    tokenExpiration: opts.tokenExpiration,
    clock: opts.clock,
  });
  const listening = await listen(app, opts.port ?? 0);
  const seed =
    opts.bootstrap === false
      ? undefined
      : store.bootstrap({ identityUrl: `${listening.url}/v3/`, ...(opts.bootstrap ?? {}) });
  return {
    url: listening.url,
    app,
    store,
    provider,
    keyDir,
    faults,
    seed,
    setDown: (down) => faults.setDown(down),
    close: listening.close,
  };
}
