/**
 * Heat calls the other services of its site over HTTP with the stack owner's
 * token, like the real engine does with the owner's credentials. The URL
 * forms are those of the catalog: compute `/v2.1`, network `/v2.0`,
 * volumev3 `/v3/<project>`, image `/v2`.
 *
 * Limitation: the token is the one of the API call that started the action;
 * a stack action outliving it fails with 401 (real Heat uses a trust).
 */
import { parseErrorMessage } from '../../../common/openstack/errors.js';
import type { SiteContext } from '../../site.js';
import { ResourceFailure } from './types.js';

const KIND: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'OverLimit',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

export type ApiService = 'compute' | 'network' | 'volume' | 'image';

export class CloudApi {
  constructor(
    private readonly site: SiteContext,
    private readonly token: string,
    private readonly projectId: string,
    private readonly signal: AbortSignal,
  ) {}

  base(service: ApiService): string {
    switch (service) {
      case 'compute':
        return `${this.site.endpoint('compute')}/v2.1`;
      case 'network':
        return `${this.site.endpoint('network')}/v2.0`;
      case 'volume':
        return `${this.site.endpoint('volumev3')}/v3/${this.projectId}`;
      case 'image':
        return `${this.site.endpoint('image')}/v2`;
    }
  }

  /** True when the site runs that service (e.g. no Glance: image names are passed through). */
  has(service: ApiService): boolean {
    try {
      this.base(service);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * One call; non-2xx throws ResourceFailure with the service's own message,
   * except the statuses in `allow`, returned as `{status, body: undefined}`.
   */
  async call<T = Record<string, unknown>>(
    service: ApiService,
    method: string,
    path: string,
    json?: unknown,
    allow: number[] = [],
  ): Promise<{ status: number; body: T }> {
    const url = `${this.base(service)}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          'X-Auth-Token': this.token,
          Accept: 'application/json',
          'User-Agent': 'cloudsim-heat-engine',
          ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
          // Nova's microversion for the newest fields (tags, description); harmless elsewhere.
          ...(service === 'compute'
            ? { 'OpenStack-API-Version': 'compute 2.79', 'X-OpenStack-Nova-API-Version': '2.79' }
            : {}),
        },
        body: json !== undefined ? JSON.stringify(json) : undefined,
        signal: this.signal,
      });
    } catch (err) {
      if (this.signal.aborted) throw err;
      throw new ResourceFailure('ConnectFailure', `Unable to establish connection to ${url.split('?')[0]}`);
    }
    const text = await res.text();
    if (allow.includes(res.status)) return { status: res.status, body: undefined as T };
    if (!res.ok) {
      const msg = parseErrorMessage(text, res.headers.get('content-type') ?? '') ?? res.statusText;
      // A message must never carry the token (some services echo headers).
      const safe = msg.split(this.token).join('***');
      throw new ResourceFailure(KIND[res.status] ?? `HTTP${res.status}`, `${safe} (HTTP ${res.status})`);
    }
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * A Neutron resource by id or by name (Heat's `network`, `subnet`, `port`,
   * `router`, `security_group` properties accept either).
   */
  async neutronId(
    kind: 'network' | 'subnet' | 'port' | 'router' | 'security-group',
    ref: unknown,
  ): Promise<string> {
    const value = String(ref);
    const plural = kind === 'security-group' ? 'security-groups' : `${kind}s`;
    const key = kind === 'security-group' ? 'security_group' : kind;
    const byId = await this.call<Record<string, { id: string }>>(
      'network',
      'GET',
      `/${plural}/${encodeURIComponent(value)}`,
      undefined,
      [404],
    );
    if (byId.status !== 404) return byId.body[key].id;
    const found = await this.call<Record<string, Array<{ id: string }>>>(
      'network',
      'GET',
      `/${plural}?name=${encodeURIComponent(value)}`,
    );
    const list = found.body[plural.replace('-', '_')] ?? [];
    if (list.length === 1) return list[0].id;
    if (list.length > 1)
      throw new ResourceFailure(
        'PhysicalResourceNameAmbiguity',
        `Multiple physical resources were found with name (${value}).`,
      );
    throw new ResourceFailure(
      'EntityNotFound',
      `The ${key.replace('_', ' ')} (${value}) could not be found.`,
    );
  }
}
