import { type CloudEntry, cloudRegion, loadCloud } from './clouds.js';
import { createFetch, errorFromResponse, type FetchLike, send } from './http.js';
import type { CliIo } from './io.js';

/** The Keystone catalog service type Dragon registers under. */
export const SERVICE_TYPE = 'disaster-recovery';

/** Everything needed to reach Dragon, after merging flags, OS_* variables and clouds.yaml. */
export interface AuthOptions {
  cloud?: string;
  authType?: string;
  authUrl?: string;
  username?: string;
  userId?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  defaultDomain: string;
  token?: string;
  endpoint?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  interface: string;
  cacert?: string;
  insecure: boolean;
  apiVersion?: string;
}

type StringKey = Exclude<keyof AuthOptions, 'insecure' | 'defaultDomain' | 'interface'>;

interface Source {
  /** commander's camelCase attribute of the --os-* flag */
  flag: string;
  env: string[];
  /** key under `auth:` in clouds.yaml */
  auth?: string[];
  /** key at the top level of the cloud entry */
  top?: string[];
}

/**
 * Where each option may come from. Precedence is OSC's: the flag, then the
 * OS_* variable (argparse defaults), then the clouds.yaml entry.
 */
const SOURCES: Record<StringKey | 'interface' | 'defaultDomain', Source> = {
  cloud: { flag: 'osCloud', env: ['OS_CLOUD'] },
  authType: { flag: 'osAuthType', env: ['OS_AUTH_TYPE'], top: ['auth_type'] },
  authUrl: { flag: 'osAuthUrl', env: ['OS_AUTH_URL'], auth: ['auth_url'] },
  username: { flag: 'osUsername', env: ['OS_USERNAME'], auth: ['username'] },
  userId: { flag: 'osUserId', env: ['OS_USER_ID'], auth: ['user_id'] },
  password: { flag: 'osPassword', env: ['OS_PASSWORD'], auth: ['password'] },
  projectName: {
    flag: 'osProjectName',
    env: ['OS_PROJECT_NAME', 'OS_TENANT_NAME'],
    auth: ['project_name', 'tenant_name'],
  },
  projectId: {
    flag: 'osProjectId',
    env: ['OS_PROJECT_ID', 'OS_TENANT_ID'],
    auth: ['project_id', 'tenant_id'],
  },
  userDomainName: { flag: 'osUserDomainName', env: ['OS_USER_DOMAIN_NAME'], auth: ['user_domain_name'] },
  userDomainId: { flag: 'osUserDomainId', env: ['OS_USER_DOMAIN_ID'], auth: ['user_domain_id'] },
  projectDomainName: {
    flag: 'osProjectDomainName',
    env: ['OS_PROJECT_DOMAIN_NAME'],
    auth: ['project_domain_name'],
  },
  projectDomainId: { flag: 'osProjectDomainId', env: ['OS_PROJECT_DOMAIN_ID'], auth: ['project_domain_id'] },
  defaultDomain: { flag: 'osDefaultDomain', env: ['OS_DEFAULT_DOMAIN'], auth: ['default_domain'] },
  token: { flag: 'osToken', env: ['OS_TOKEN'], auth: ['token'] },
  endpoint: {
    flag: 'osEndpoint',
    env: ['OS_ENDPOINT', 'OS_URL'],
    auth: ['endpoint'],
    top: ['disaster_recovery_endpoint_override', 'endpoint_override'],
  },
  applicationCredentialId: {
    flag: 'osApplicationCredentialId',
    env: ['OS_APPLICATION_CREDENTIAL_ID'],
    auth: ['application_credential_id'],
  },
  applicationCredentialName: {
    flag: 'osApplicationCredentialName',
    env: ['OS_APPLICATION_CREDENTIAL_NAME'],
    auth: ['application_credential_name'],
  },
  applicationCredentialSecret: {
    flag: 'osApplicationCredentialSecret',
    env: ['OS_APPLICATION_CREDENTIAL_SECRET'],
    auth: ['application_credential_secret'],
  },
  regionName: { flag: 'osRegionName', env: ['OS_REGION_NAME'] },
  interface: {
    flag: 'osInterface',
    env: ['OS_INTERFACE', 'OS_ENDPOINT_TYPE'],
    top: ['interface', 'endpoint_type'],
  },
  cacert: { flag: 'osCacert', env: ['OS_CACERT'], top: ['cacert'] },
  apiVersion: {
    flag: 'osDisasterRecoveryApiVersion',
    env: ['OS_DISASTER_RECOVERY_API_VERSION'],
    top: ['disaster_recovery_api_version'],
  },
};

function pick(src: Source, flags: Record<string, unknown>, env: CliIo['env'], cloud: CloudEntry) {
  const flag = flags[src.flag];
  if (typeof flag === 'string' && flag !== '') return flag;
  for (const name of src.env) if (env[name]) return env[name];
  for (const key of src.auth ?? []) if (cloud.auth?.[key]) return String(cloud.auth[key]);
  for (const key of src.top ?? [])
    if (cloud[key] !== undefined && cloud[key] !== null) return String(cloud[key]);
  return undefined;
}

/** Merge --os-* flags, OS_* variables and the chosen clouds.yaml entry into one set of options. */
export function resolveAuthOptions(flags: Record<string, unknown>, io: Pick<CliIo, 'env' | 'cwd' | 'home'>) {
  const cloudName = pick(SOURCES.cloud, flags, io.env, {});
  const cloud = cloudName ? loadCloud(cloudName, io) : {};
  const out: Partial<AuthOptions> = { cloud: cloudName };
  for (const [key, src] of Object.entries(SOURCES)) {
    if (key === 'cloud') continue;
    (out as Record<string, unknown>)[key] = pick(src, flags, io.env, cloud);
  }
  out.regionName ??= cloudRegion(cloud);
  out.interface = normaliseInterface(out.interface ?? 'public');
  out.defaultDomain ??= 'default';
  // openstacksdk reads both `verify: false` and `insecure: true`; OS_INSECURE is its variable.
  out.insecure =
    flags.insecure === true ||
    /^(1|true|yes)$/i.test(io.env.OS_INSECURE ?? '') ||
    cloud.verify === false ||
    cloud.insecure === true;
  return out as AuthOptions;
}

/** keystoneauth accepts the v2-era names too. */
function normaliseInterface(value: string): string {
  return value.replace(/URL$/, '');
}

/** A usable connection to Dragon: a token and the API's base URL. */
export interface Session {
  token: string;
  /** base URL of the API without the trailing /v1 */
  endpoint: string;
  apiVersion?: string;
  fetch: FetchLike;
}

export interface CatalogEndpoint {
  interface: string;
  region?: string;
  region_id?: string;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** Pick the endpoint of a service type the way keystoneauth does: matching interface and region, first wins. */
export function selectEndpoint(
  catalog: CatalogService[],
  want: { serviceType: string; interface: string; region?: string },
): string {
  for (const service of catalog) {
    if (service.type !== want.serviceType) continue;
    for (const ep of service.endpoints ?? []) {
      if (normaliseInterface(ep.interface) !== want.interface) continue;
      if (want.region && ep.region !== want.region && ep.region_id !== want.region) continue;
      return ep.url;
    }
  }
  const where = want.region ? ` in ${want.region} region` : '';
  throw new Error(`${want.interface} endpoint for ${want.serviceType} service${where} not found`);
}

/** Dragon's catalog URL may or may not include /v1; the client always adds it. */
export function apiBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function identityV3(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

function missing(option: string, plugin: string): Error {
  return new Error(`Missing value ${option} required for auth plugin ${plugin}`);
}

/** Which keystoneauth plugin the options describe, inferred like OSC when --os-auth-type is absent. */
export function authPlugin(
  opts: AuthOptions,
): 'password' | 'token' | 'v3applicationcredential' | 'token_endpoint' {
  const t = opts.authType?.toLowerCase();
  if (t === 'admin_token' || t === 'none' || t === 'token_endpoint') return 'token_endpoint';
  if (t === 'token' || t === 'v3token') return 'token';
  if (t === 'v3applicationcredential' || t === 'applicationcredential') return 'v3applicationcredential';
  if (t === 'password' || t === 'v3password') return 'password';
  if (t) throw new Error(`Authentication plugin ${opts.authType} not supported`);
  if (opts.token && opts.endpoint) return 'token_endpoint';
  if (opts.token) return 'token';
  if (opts.applicationCredentialId || opts.applicationCredentialName) return 'v3applicationcredential';
  return 'password';
}

function domainRef(name: string | undefined, id: string | undefined, fallbackId: string) {
  if (id) return { id };
  if (name) return { name };
  return { id: fallbackId };
}

/** The body of POST /v3/auth/tokens for the chosen plugin. */
export function tokenRequest(opts: AuthOptions, plugin: 'password' | 'token' | 'v3applicationcredential') {
  let identity: Record<string, unknown>;
  if (plugin === 'password') {
    if (!opts.username && !opts.userId) throw missing('username', plugin);
    if (!opts.password) throw missing('password', plugin);
    const user = opts.userId
      ? { id: opts.userId, password: opts.password }
      : {
          name: opts.username,
          domain: domainRef(opts.userDomainName, opts.userDomainId, opts.defaultDomain),
          password: opts.password,
        };
    identity = { methods: ['password'], password: { user } };
  } else if (plugin === 'token') {
    if (!opts.token) throw missing('token', plugin);
    identity = { methods: ['token'], token: { id: opts.token } };
  } else {
    if (!opts.applicationCredentialSecret) throw missing('application-credential-secret', plugin);
    let credential: Record<string, unknown>;
    if (opts.applicationCredentialId) {
      credential = { id: opts.applicationCredentialId, secret: opts.applicationCredentialSecret };
    } else {
      if (!opts.applicationCredentialName) throw missing('application-credential-id', plugin);
      if (!opts.username && !opts.userId) throw missing('username', plugin);
      const user = opts.userId
        ? { id: opts.userId }
        : {
            name: opts.username,
            domain: domainRef(opts.userDomainName, opts.userDomainId, opts.defaultDomain),
          };
      credential = { name: opts.applicationCredentialName, secret: opts.applicationCredentialSecret, user };
    }
    // An application credential carries its own project; Keystone rejects an explicit scope.
    return {
      auth: { identity: { methods: ['application_credential'], application_credential: credential } },
    };
  }
  let scope: Record<string, unknown> | undefined;
  if (opts.projectId) scope = { project: { id: opts.projectId } };
  else if (opts.projectName) {
    scope = {
      project: {
        name: opts.projectName,
        domain: domainRef(opts.projectDomainName, opts.projectDomainId, opts.defaultDomain),
      },
    };
  }
  return { auth: scope ? { identity, scope } : { identity } };
}

/**
 * Get a token from Keystone (unless --os-token and --os-endpoint make that
 * unnecessary) and find Dragon's endpoint in the returned catalog.
 */
export async function authenticate(opts: AuthOptions, doFetch?: FetchLike): Promise<Session> {
  const fetchImpl = doFetch ?? createFetch({ cacert: opts.cacert, insecure: opts.insecure });
  const plugin = authPlugin(opts);
  if (plugin === 'token_endpoint') {
    if (!opts.token) throw missing('token', 'admin_token');
    if (!opts.endpoint) throw missing('endpoint', 'admin_token');
    return {
      token: opts.token,
      endpoint: apiBase(opts.endpoint),
      apiVersion: opts.apiVersion,
      fetch: fetchImpl,
    };
  }
  if (!opts.authUrl) throw missing('auth-url', plugin);
  const url = `${identityV3(opts.authUrl)}/auth/tokens`;
  const res = await send(fetchImpl, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(tokenRequest(opts, plugin)),
  });
  if (!res.ok) throw await errorFromResponse(res);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('Keystone returned no X-Subject-Token header');
  const body = (await res.json()) as { token?: { catalog?: CatalogService[] } };
  const endpoint =
    opts.endpoint ??
    selectEndpoint(body.token?.catalog ?? [], {
      serviceType: SERVICE_TYPE,
      interface: opts.interface,
      region: opts.regionName,
    });
  return { token, endpoint: apiBase(endpoint), apiVersion: opts.apiVersion, fetch: fetchImpl };
}
