/**
 * Heat (orchestration) API v1 client: template validate, stacks
 * create/show/list/update/delete, resources, events, outputs, and waiting
 * for a stack status with the reasons of the failed resources in the error.
 * The catalog endpoint already ends in `/v1/<project id>`.
 */
import { OpenStackHttpError } from './errors.js';
import type { KeystoneSession, RequestOptions } from './session.js';
import { WaitError, type WaitOptions, waitFor } from './wait.js';

const SERVICE = 'orchestration';

export interface HeatLink {
  href: string;
  rel: string;
}

export interface HeatStack {
  id: string;
  stack_name: string;
  description: string;
  stack_status: string;
  stack_status_reason: string;
  creation_time: string;
  updated_time: string | null;
  deletion_time?: string | null;
  disable_rollback?: boolean;
  timeout_mins?: number | null;
  parameters?: Record<string, string>;
  outputs?: Array<{ output_key: string; output_value: unknown; description: string; output_error?: string }>;
  tags?: string[] | null;
  links: HeatLink[];
}

export interface HeatResource {
  resource_name: string;
  logical_resource_id: string;
  physical_resource_id: string;
  resource_type: string;
  resource_status: string;
  resource_status_reason: string;
  required_by: string[];
  creation_time: string;
  updated_time: string;
  attributes?: Record<string, unknown>;
  links: HeatLink[];
}

export interface HeatEvent {
  id: string;
  event_time: string;
  resource_name: string;
  logical_resource_id: string;
  physical_resource_id: string;
  resource_status: string;
  resource_status_reason: string;
  links: HeatLink[];
}

export interface HeatValidation {
  Description: string;
  Parameters: Record<string, Record<string, unknown>>;
  ParameterGroups: unknown[];
}

/** A stack by name or id, or by both (the canonical form, which also finds a deleted stack). */
export type StackRef = string | { name: string; id: string };

export interface StackCreate {
  name: string;
  /** A template object or its YAML/JSON text. */
  template: unknown;
  parameters?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  files?: Record<string, string>;
  /** Heat's default is true (no rollback): pass false to have a failed create rolled back. */
  disableRollback?: boolean;
  timeoutMins?: number;
  tags?: string[];
}

export interface StackUpdate {
  template?: unknown;
  parameters?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  timeoutMins?: number;
  /** PATCH (keep the current template and parameters, change what is given) instead of PUT. */
  existing?: boolean;
}

function stackPath(ref: StackRef): string {
  return typeof ref === 'string'
    ? `stacks/${encodeURIComponent(ref)}`
    : `stacks/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.id)}`;
}

export class HeatClient {
  constructor(
    private readonly session: KeystoneSession,
    private readonly opts: { region?: string; interface?: 'public' | 'internal' | 'admin' } = {},
  ) {}

  #target(path: string) {
    return { service: SERVICE, path, region: this.opts.region, interface: this.opts.interface };
  }

  #json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return this.session.requestJson<T>(method, this.#target(path), o);
  }

  /** POST /validate — api-ref "Validate template". Throws OpenStackHttpError (400) with Heat's message. */
  validate(
    template: unknown,
    o: { parameters?: Record<string, unknown>; environment?: Record<string, unknown> } = {},
  ) {
    return this.#json<HeatValidation>('POST', 'validate', {
      json: { template, environment: { ...(o.environment ?? {}), parameters: o.parameters ?? {} } },
    });
  }

  /** POST /stacks — api-ref "Create stack". Returns as soon as Heat accepted it (CREATE_IN_PROGRESS). */
  async createStack(c: StackCreate): Promise<{ id: string; links: HeatLink[] }> {
    const r = await this.#json<{ stack: { id: string; links: HeatLink[] } }>('POST', 'stacks', {
      json: {
        stack_name: c.name,
        template: c.template,
        parameters: c.parameters ?? {},
        environment: c.environment ?? {},
        files: c.files ?? {},
        ...(c.disableRollback !== undefined ? { disable_rollback: c.disableRollback } : {}),
        ...(c.timeoutMins !== undefined ? { timeout_mins: c.timeoutMins } : {}),
        ...(c.tags ? { tags: c.tags.join(',') } : {}),
      },
    });
    return r.stack;
  }

  /** GET /stacks/{name}[/{id}] — api-ref "Find stack" (302 to the canonical URL, followed) / "Show stack details". */
  async getStack(ref: StackRef): Promise<HeatStack> {
    return (await this.#json<{ stack: HeatStack }>('GET', stackPath(ref))).stack;
  }

  /**
   * Like getStack, undefined when there is no such stack (404). `resolveOutputs: false` asks Heat not to
   * evaluate the outputs (`?resolve_outputs=False`): a poller needs the status, and a big stack's outputs
   * can cost Heat a call per resource.
   */
  async findStack(ref: StackRef, o: { resolveOutputs?: boolean } = {}): Promise<HeatStack | undefined> {
    const query = o.resolveOutputs === false ? '?resolve_outputs=False' : '';
    const res = await this.session.request('GET', this.#target(`${stackPath(ref)}${query}`), {
      allowStatus: [404],
    });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    return ((await res.json()) as { stack: HeatStack }).stack;
  }

  /** GET /stacks — api-ref "List stacks". */
  async listStacks(
    query: {
      name?: string;
      status?: string;
      limit?: number;
      marker?: string;
      sort_dir?: 'asc' | 'desc';
    } = {},
  ): Promise<HeatStack[]> {
    return (await this.#json<{ stacks: HeatStack[] }>('GET', 'stacks', { query })).stacks;
  }

  /** PUT / PATCH /stacks/{name}/{id} — api-ref "Update stack" / "Update stack (PATCH)". 202, asynchronous. */
  async updateStack(ref: StackRef, u: StackUpdate): Promise<void> {
    await this.session.request(u.existing ? 'PATCH' : 'PUT', this.#target(stackPath(ref)), {
      json: {
        ...(u.template !== undefined ? { template: u.template } : {}),
        parameters: u.parameters ?? {},
        ...(u.environment ? { environment: u.environment } : {}),
        ...(u.timeoutMins !== undefined ? { timeout_mins: u.timeoutMins } : {}),
      },
    });
  }

  /** DELETE /stacks/{name}/{id} — api-ref "Delete stack". 204, asynchronous; a missing stack throws 404. */
  async deleteStack(ref: StackRef): Promise<void> {
    const res = await this.session.request('DELETE', this.#target(stackPath(ref)));
    await res.body?.cancel().catch(() => {});
  }

  /**
   * The canonical {name, id} of a stack: what heatclient does before calling
   * a stack's sub-resources (Heat's lookup redirect only covers
   * /stacks/{name} and /stacks/{name}/{resources|events|outputs|template}).
   */
  async resolveStack(ref: StackRef): Promise<{ name: string; id: string }> {
    if (typeof ref !== 'string') return ref;
    const s = await this.getStack(ref);
    return { name: s.stack_name, id: s.id };
  }

  /** GET /stacks/{name}/{id}/resources — api-ref "List resources". */
  async listResources(ref: StackRef): Promise<HeatResource[]> {
    return (await this.#json<{ resources: HeatResource[] }>('GET', `${stackPath(ref)}/resources`)).resources;
  }

  /** GET /stacks/{name}/{id}/resources/{resource} — api-ref "Show resource data" (with attributes). */
  async getResource(ref: StackRef, resource: string): Promise<HeatResource> {
    return (
      await this.#json<{ resource: HeatResource }>(
        'GET',
        `${stackPath(await this.resolveStack(ref))}/resources/${encodeURIComponent(resource)}`,
      )
    ).resource;
  }

  /** GET /stacks/{name}/{id}[/resources/{resource}]/events — api-ref "List stack events" / "List resource events". */
  async listEvents(
    ref: StackRef,
    o: {
      resource?: string;
      resourceStatus?: string;
      limit?: number;
      sortDir?: 'asc' | 'desc';
      marker?: string;
    } = {},
  ): Promise<HeatEvent[]> {
    const path = o.resource
      ? `${stackPath(await this.resolveStack(ref))}/resources/${encodeURIComponent(o.resource)}/events`
      : `${stackPath(ref)}/events`;
    return (
      await this.#json<{ events: HeatEvent[] }>('GET', path, {
        query: { resource_status: o.resourceStatus, limit: o.limit, sort_dir: o.sortDir, marker: o.marker },
      })
    ).events;
  }

  /** GET /stacks/{name}/{id}/outputs/{key} — api-ref "Show output". */
  async getOutput(ref: StackRef, key: string): Promise<unknown> {
    const r = await this.#json<{ output: { output_value: unknown; output_error?: string } }>(
      'GET',
      `${stackPath(await this.resolveStack(ref))}/outputs/${encodeURIComponent(key)}`,
    );
    if (r.output.output_error) throw new Error(`stack output ${key}: ${r.output.output_error}`);
    return r.output.output_value;
  }

  /** GET /stacks/{name}/{id}/template — api-ref "Get stack template". */
  getTemplate(ref: StackRef): Promise<Record<string, unknown>> {
    return this.#json('GET', `${stackPath(ref)}/template`);
  }

  /**
   * Waits for the stack to reach `status` (e.g. CREATE_COMPLETE). Any *_FAILED
   * status, or a rollback, fails the wait with the stack's reason and those of
   * its failed resources. Waiting for DELETE_COMPLETE also ends when the
   * stack is gone (404).
   */
  async waitForStack(
    ref: StackRef,
    status: string,
    o: Pick<
      WaitOptions<HeatStack>,
      'timeoutMs' | 'intervalMs' | 'maxIntervalMs' | 'onProgress' | 'signal'
    > = {},
  ): Promise<HeatStack> {
    type State = HeatStack & { failures?: string[] };
    const action = status.split('_')[0];
    // Polled without outputs (cheap for Heat); the stack that reached `status` is shown once more with them.
    const reached = await waitFor<State>({
      resource: `stack ${typeof ref === 'string' ? ref : `${ref.name} (${ref.id})`}`,
      ...o,
      poll: async () => {
        let s: State | undefined;
        try {
          s = await this.findStack(ref, { resolveOutputs: false });
        } catch (err) {
          if (!(err instanceof OpenStackHttpError && err.status === 404)) throw err;
        }
        if (!s) {
          if (status === 'DELETE_COMPLETE') return { stack_status: 'DELETE_COMPLETE' } as State;
          throw new WaitError(`stack ${typeof ref === 'string' ? ref : ref.id} no longer exists`);
        }
        if (
          s.stack_status.endsWith('_FAILED') ||
          (action !== 'ROLLBACK' && s.stack_status.startsWith('ROLLBACK_'))
        ) {
          // After a rollback the resources no longer say what failed; the FAILED events still do.
          const id = typeof ref === 'string' ? { name: s.stack_name, id: s.id } : ref;
          const resources = await this.listResources(id).catch(() => [] as HeatResource[]);
          const events = await this.listEvents(id, { resourceStatus: 'FAILED' }).catch(
            () => [] as HeatEvent[],
          );
          const seen = new Set<string>();
          s.failures = [
            ...events.map((e) => `${e.resource_name} ${e.resource_status}: ${e.resource_status_reason}`),
            ...resources
              .filter((r) => r.resource_status.endsWith('_FAILED'))
              .map(
                (r) =>
                  `resource ${r.resource_name} (${r.resource_type}) ${r.resource_status}: ${r.resource_status_reason}`,
              ),
          ].filter((x) => !seen.has(x) && seen.add(x));
        }
        return s;
      },
      status: (s) => s.stack_status,
      ready: [status],
      failed: [
        'CREATE_FAILED',
        'UPDATE_FAILED',
        'DELETE_FAILED',
        'ROLLBACK_FAILED',
        'ROLLBACK_COMPLETE',
        'SUSPEND_FAILED',
        'RESUME_FAILED',
      ].filter((x) => x !== status),
      fault: (s) => [s.stack_status_reason, ...(s.failures ?? [])].filter(Boolean).join('; '),
    });
    if (status === 'DELETE_COMPLETE' || !reached.id) return reached;
    const shown = await this.findStack({ name: reached.stack_name, id: reached.id });
    if (!shown) throw new WaitError(`stack ${reached.stack_name} (${reached.id}) no longer exists`);
    return shown;
  }
}
