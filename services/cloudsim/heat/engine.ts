/**
 * The HOT engine: stacks kept in memory (Heat's database), actions run in
 * the background like heat-engine's, resources created in dependency order
 * (independent ones in parallel) through the site's own HTTP APIs with the
 * stack owner's token, deleted in reverse order.
 *
 * - create: CREATE_IN_PROGRESS → CREATE_COMPLETE, or CREATE_FAILED (reason of
 *   the first failed resource) then, when rollback is enabled
 *   (disable_rollback false — Heat's default is true), ROLLBACK_IN_PROGRESS →
 *   ROLLBACK_COMPLETE with every created resource deleted.
 * - update: resources whose type and resolved properties are unchanged are
 *   kept, changed ones replaced (new one created, old one deleted), added
 *   ones created, removed ones deleted. No rollback of a failed update.
 * - delete: DELETE_IN_PROGRESS → DELETE_COMPLETE (still shown by id for a
 *   while, like Heat's soft-deleted rows), deletion_policy Retain honoured.
 * - timeout_mins cancels the action ("Timed out").
 *
 * Limitation: actions run with the token of the API call that started them;
 * an action outliving that token fails with 401 (real Heat uses a trust).
 */
import { randomUUID } from 'node:crypto';
import type { SimCaller } from '../sim-auth.js';
import type { SiteContext } from '../site.js';
import { HeatError } from './errors.js';
import { paramNames, type ResolveContext, resolve } from './functions.js';
import type { DependencyGraph } from './graph.js';
import { CloudApi } from './resources/api.js';
import { RESOURCE_TYPES } from './resources/index.js';
import { pause, type ResourceContext, ResourceFailure, type ResourceType } from './resources/types.js';
import {
  describeParameters,
  evaluateConditions,
  isActive,
  parseTemplate,
  resolveParameters,
  type Template,
  validateResources,
} from './template.js';

export interface StackResource {
  name: string;
  type: string;
  physicalId: string;
  action: string;
  status: string;
  reason: string;
  /** Properties as resolved when the resource was created (compared on update). */
  props: Record<string, unknown>;
  data: Record<string, string>;
  deletionPolicy: string;
  created: string;
  updated: string | null;
}

export interface HeatEvent {
  id: string;
  time: string;
  resourceName: string;
  physicalId: string;
  status: string;
  reason: string;
  /** true for the stack's own events. */
  stack: boolean;
}

export interface Stack {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  template: Template;
  /** Parameters as given by the user (kept for PATCH updates). */
  given: Record<string, unknown>;
  params: Record<string, unknown>;
  conditions: Record<string, boolean>;
  graph: DependencyGraph;
  action: string;
  status: string;
  reason: string;
  disableRollback: boolean;
  timeoutMins: number | null;
  created: string;
  updated: string | null;
  deleted: string | null;
  tags: string[] | null;
  resources: Map<string, StackResource>;
  events: HeatEvent[];
  /** The running action, cancelled by a delete or the timeout. */
  running?: { abort: AbortController; done: Promise<void> };
}

export interface StackRequest {
  stack_name?: string;
  template?: unknown;
  parameters?: Record<string, unknown>;
  environment?:
    | { parameters?: Record<string, unknown>; parameter_defaults?: Record<string, unknown> }
    | string;
  disable_rollback?: boolean;
  timeout_mins?: number;
  tags?: string | string[];
}

/** Heat's timestamps: ISO 8601 to the second, UTC. */
export const heatTime = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** How long a deleted stack stays visible by id. */
const DELETED_RETENTION_MS = 10 * 60_000;

function givenParameters(req: StackRequest): Record<string, unknown> {
  const env = typeof req.environment === 'object' && req.environment !== null ? req.environment : {};
  return { ...(env.parameter_defaults ?? {}), ...(env.parameters ?? {}), ...(req.parameters ?? {}) };
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class HeatEngine {
  readonly stacks = new Map<string, Stack>();
  /** Aborted when the service stops: rollbacks and deletes (not subject to the stack timeout) end too. */
  readonly #shutdown = new AbortController();
  /** Poll interval bounds for check_*_complete (short: the simulator's services are quick). */
  pollMs = { min: 50, max: 1000 };

  constructor(
    private readonly site: SiteContext,
    readonly types: Record<string, ResourceType> = RESOURCE_TYPES,
  ) {}

  /** POST /validate: Heat's answer, or a HeatError. */
  validate(req: StackRequest): Record<string, unknown> {
    if (req.template === undefined) throw new HeatError('HTTPBadRequest', 'No template specified');
    const t = parseTemplate(req.template);
    const given = givenParameters(req);
    const params = resolveParameters(t, given, false);
    const conditions = evaluateConditions(t, params);
    validateResources(t, this.types, conditions);
    const raw = t.raw.parameter_groups;
    return {
      Description: t.description,
      Parameters: describeParameters(t, given),
      ParameterGroups: Array.isArray(raw) ? raw : [],
      Environment: {
        parameters: given,
        parameter_defaults: {},
        resource_registry: { resources: {} },
        event_sinks: [],
      },
    };
  }

  find(projectId: string | undefined, nameOrId: string, opts: { deleted?: boolean } = {}): Stack {
    const byId = this.stacks.get(nameOrId);
    const visible = (s: Stack) => projectId === undefined || s.projectId === projectId;
    if (byId && visible(byId) && (opts.deleted || !byId.deleted)) return byId;
    for (const s of this.stacks.values()) if (s.name === nameOrId && !s.deleted && visible(s)) return s;
    throw new HeatError('EntityNotFound', `The Stack (${nameOrId}) could not be found.`, 404);
  }

  list(projectId: string | undefined): Stack[] {
    return [...this.stacks.values()].filter(
      (s) => !s.deleted && (projectId === undefined || s.projectId === projectId),
    );
  }

  create(caller: SimCaller, req: StackRequest): Stack {
    const name = req.stack_name;
    if (!name) throw new HeatError('HTTPBadRequest', 'No stack name specified');
    if (!/^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$/.test(name))
      throw new HeatError(
        'StackValidationFailed',
        `Invalid stack name ${name} must contain only alphanumeric or "_-." characters, must start with alpha and must be 255 characters or less.`,
      );
    if (req.template === undefined) throw new HeatError('HTTPBadRequest', 'No template specified');
    if (this.list(caller.projectId).some((s) => s.name === name))
      throw new HeatError('StackExists', `The Stack (${name}) already exists.`, 409);
    const t = parseTemplate(req.template);
    const given = givenParameters(req);
    const params = resolveParameters(t, given, true);
    const conditions = evaluateConditions(t, params);
    const graph = validateResources(t, this.types, conditions);
    const now = heatTime();
    const stack: Stack = {
      id: randomUUID(),
      name,
      projectId: caller.projectId,
      userId: caller.userId,
      template: t,
      given,
      params,
      conditions,
      graph,
      action: 'CREATE',
      status: 'IN_PROGRESS',
      reason: 'Stack CREATE started',
      disableRollback: req.disable_rollback ?? true,
      timeoutMins: req.timeout_mins ? Number(req.timeout_mins) : null,
      created: now,
      updated: null,
      deleted: null,
      tags: req.tags ? (Array.isArray(req.tags) ? req.tags : String(req.tags).split(',')) : null,
      resources: new Map(),
      events: [],
    };
    for (const n of graph.order()) stack.resources.set(n, this.#newResource(stack, n));
    this.stacks.set(stack.id, stack);
    this.#stackEvent(stack);
    this.#run(stack, caller.token, async (signal) => {
      const failure = await this.#forward(stack, caller.token, [...stack.resources.keys()], signal, 'CREATE');
      if (!failure) return this.#setStack(stack, 'CREATE', 'COMPLETE', 'Stack CREATE completed successfully');
      this.#setStack(stack, 'CREATE', 'FAILED', failure);
      if (stack.disableRollback || stack.action === 'DELETE') return;
      this.#setStack(stack, 'ROLLBACK', 'IN_PROGRESS', 'Stack ROLLBACK started');
      const rb = await this.#backward(
        stack,
        caller.token,
        new Set(stack.resources.keys()),
        this.#shutdown.signal,
      );
      if (rb) this.#setStack(stack, 'ROLLBACK', 'FAILED', rb);
      else this.#setStack(stack, 'ROLLBACK', 'COMPLETE', 'Stack ROLLBACK completed successfully');
    });
    return stack;
  }

  update(caller: SimCaller, stack: Stack, req: StackRequest, patch: boolean): void {
    if (stack.status === 'IN_PROGRESS')
      throw new HeatError(
        'ActionInProgress',
        `Stack ${stack.name} already has an action (${stack.action}) in progress.`,
        409,
      );
    if (stack.action === 'DELETE')
      throw new HeatError(
        'NotSupported',
        `Updating a stack when it is (${stack.action}_${stack.status}) is not supported.`,
      );
    if (!patch && req.template === undefined) throw new HeatError('HTTPBadRequest', 'No template specified');
    const t = req.template === undefined ? stack.template : parseTemplate(req.template);
    const given = patch ? { ...stack.given, ...givenParameters(req) } : givenParameters(req);
    const params = resolveParameters(t, given, true);
    const conditions = evaluateConditions(t, params);
    const graph = validateResources(t, this.types, conditions);
    const oldGraph = stack.graph;
    const oldTemplate = stack.template;
    const oldParams = stack.params;
    const old = new Map(stack.resources);
    Object.assign(stack, { template: t, given, params, conditions, graph, updated: heatTime() });
    if (req.timeout_mins) stack.timeoutMins = Number(req.timeout_mins);
    if (req.disable_rollback !== undefined) stack.disableRollback = req.disable_rollback;
    this.#setStack(stack, 'UPDATE', 'IN_PROGRESS', 'Stack UPDATE started');
    // A resource is kept when its definition, the parameters it reads and everything it requires are
    // unchanged; otherwise it is replaced. Replacement deletes the old one first (reverse order), then
    // creates the new one: simpler than Heat's create-new-then-delete-old, and never conflicts.
    const order = graph.order();
    const changed = new Set<string>();
    for (const n of order) {
      const prev = old.get(n);
      const def = t.resources[n];
      const reads = paramNames(def.properties);
      if (
        !prev ||
        prev.type !== def.type ||
        prev.status !== 'COMPLETE' ||
        prev.action === 'DELETE' ||
        prev.action === 'INIT' ||
        JSON.stringify(oldTemplate.resources[n]?.properties) !== JSON.stringify(def.properties) ||
        reads.some((p) => !deepEqual(oldParams[p], params[p])) ||
        [...(graph.requires.get(n) ?? [])].some((d) => changed.has(d))
      )
        changed.add(n);
    }
    const doomed = new Set([...old.keys()].filter((n) => !graph.requires.has(n) || changed.has(n)));
    this.#run(stack, caller.token, async (signal) => {
      stack.graph = oldGraph;
      const err = await this.#backward(stack, caller.token, doomed, signal);
      // On failure the old resources are still there: keep their graph so a later delete orders them.
      if (err) return this.#setStack(stack, 'UPDATE', 'FAILED', err);
      stack.graph = graph;
      const resources = new Map<string, StackResource>();
      for (const n of order) {
        const prev = old.get(n);
        if (prev && !changed.has(n)) prev.deletionPolicy = t.resources[n].deletionPolicy;
        resources.set(n, prev && !changed.has(n) ? prev : this.#newResource(stack, n));
      }
      stack.resources = resources;
      const failure = await this.#forward(stack, caller.token, [...changed], signal, 'UPDATE');
      if (failure) return this.#setStack(stack, 'UPDATE', 'FAILED', failure);
      this.#setStack(stack, 'UPDATE', 'COMPLETE', 'Stack UPDATE completed successfully');
    });
  }

  /** DELETE: cancels a running action, then deletes every resource in reverse dependency order. */
  delete(caller: SimCaller, stack: Stack): void {
    if (stack.action === 'DELETE' && stack.status === 'IN_PROGRESS') return;
    const previous = stack.running;
    previous?.abort.abort(new Error('Stack DELETE started'));
    this.#setStack(stack, 'DELETE', 'IN_PROGRESS', 'Stack DELETE started');
    const work = async () => {
      await previous?.done.catch(() => {});
      const err = await this.#backward(
        stack,
        caller.token,
        new Set(stack.resources.keys()),
        this.#shutdown.signal,
      );
      if (err) return this.#setStack(stack, 'DELETE', 'FAILED', err);
      this.#setStack(stack, 'DELETE', 'COMPLETE', 'Stack DELETE completed successfully');
      stack.deleted = heatTime();
      setTimeout(() => this.stacks.delete(stack.id), DELETED_RETENTION_MS).unref();
    };
    const abort = new AbortController();
    const done: Promise<void> = work()
      .catch((e) => this.#setStack(stack, 'DELETE', 'FAILED', String(e)))
      .finally(() => {
        if (stack.running?.done === done) stack.running = undefined;
      });
    stack.running = { abort, done };
  }

  /** Cancels every running action (the service is stopping). */
  async stop(): Promise<void> {
    this.#shutdown.abort(new Error('Heat stopped'));
    const running = [...this.stacks.values()].map((s) => {
      s.running?.abort.abort(new Error('Heat stopped'));
      return s.running?.done;
    });
    await Promise.all(running);
  }

  /** Resolves when the stack has no action running (tests). */
  async idle(stack: Stack): Promise<void> {
    while (stack.running) await stack.running.done;
  }

  /** The stack's outputs (or only the one named `only`); a failing one carries `output_error` as in Heat. */
  async outputs(stack: Stack, token: string, only?: string): Promise<Array<Record<string, unknown>>> {
    const ctx = this.#resolver(stack, token, new AbortController().signal);
    const wanted = Object.entries(stack.template.outputs).filter(
      ([key, o]) => (only === undefined || key === only) && isActive(o.condition, stack.conditions),
    );
    return Promise.all(
      wanted.map(async ([key, o]) => {
        try {
          return { output_key: key, output_value: await resolve(o.value, ctx), description: o.description };
        } catch (e) {
          return {
            output_key: key,
            output_value: null,
            description: o.description,
            output_error: e instanceof Error ? e.message : String(e),
          };
        }
      }),
    );
  }

  /** The attributes shown by resource-show: the physical resource as its API shows it. */
  async attributes(stack: Stack, r: StackResource, token: string): Promise<Record<string, unknown>> {
    const type = this.types[r.type];
    if (!r.physicalId || r.status !== 'COMPLETE' || r.action === 'DELETE') return {};
    const ctx = this.#resourceContext(stack, r, token, new AbortController().signal);
    const show = type.show ? await type.show(ctx, r.physicalId).catch(() => undefined) : undefined;
    return show ? { ...show, show } : {};
  }

  // --- internals ---------------------------------------------------------

  #newResource(stack: Stack, name: string): StackResource {
    const def = stack.template.resources[name];
    return {
      name,
      type: def.type,
      physicalId: '',
      action: 'INIT',
      status: 'COMPLETE',
      reason: '',
      props: {},
      data: {},
      deletionPolicy: def.deletionPolicy,
      created: heatTime(),
      updated: null,
    };
  }

  #run(stack: Stack, _token: string, action: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const timer =
      stack.timeoutMins !== null
        ? setTimeout(
            () => abort.abort(new ResourceFailure('Timeout', 'Timed out')),
            stack.timeoutMins * 60_000,
          )
        : undefined;
    const done = action(abort.signal)
      .catch((e) => this.#setStack(stack, stack.action, 'FAILED', e instanceof Error ? e.message : String(e)))
      .finally(() => {
        clearTimeout(timer);
        if (stack.running?.done === done) stack.running = undefined;
      });
    stack.running = { abort, done };
  }

  #setStack(stack: Stack, action: string, status: string, reason: string): void {
    // A delete cancels the running action: what that action reports afterwards no longer matters.
    if (stack.action === 'DELETE' && action !== 'DELETE') return;
    stack.action = action;
    stack.status = status;
    stack.reason = reason;
    this.#stackEvent(stack);
  }

  #stackEvent(stack: Stack): void {
    stack.events.push({
      id: randomUUID(),
      time: heatTime(),
      resourceName: stack.name,
      physicalId: stack.id,
      status: `${stack.action}_${stack.status}`,
      reason: stack.reason,
      stack: true,
    });
  }

  #setResource(stack: Stack, r: StackResource, action: string, status: string, reason: string): void {
    r.action = action;
    r.status = status;
    r.reason = reason;
    r.updated = heatTime();
    stack.events.push({
      id: randomUUID(),
      time: r.updated,
      resourceName: r.name,
      physicalId: r.physicalId,
      status: `${action}_${status}`,
      reason,
      stack: false,
    });
  }

  #reason(name: string, e: unknown): string {
    if (e instanceof ResourceFailure) return `${e.kind}: resources.${name}: ${e.message}`;
    if (e instanceof HeatError) return `${e.type}: resources.${name}: ${e.message}`;
    return `Error: resources.${name}: ${e instanceof Error ? e.message : String(e)}`;
  }

  #resourceContext(stack: Stack, r: StackResource, token: string, signal: AbortSignal): ResourceContext {
    return {
      name: r.name,
      stackName: stack.name,
      stackId: stack.id,
      api: new CloudApi(this.site, token, stack.projectId, signal),
      data: r.data,
      signal,
    };
  }

  #resolver(stack: Stack, token: string, signal: AbortSignal): ResolveContext {
    const pseudo: Record<string, unknown> = {
      'OS::stack_name': stack.name,
      'OS::stack_id': stack.id,
      'OS::project_id': stack.projectId,
    };
    const live = (name: string) => {
      const r = stack.resources.get(name);
      if (!r?.physicalId || r.action === 'DELETE' || r.action === 'INIT') return undefined;
      return r;
    };
    return {
      param: (name) => {
        if (name in pseudo) return pseudo[name];
        if (!(name in stack.template.parameters))
          throw new HeatError(
            'InvalidTemplateReference',
            `The Parameter (${name}) was not defined in template.`,
          );
        return stack.params[name] ?? null;
      },
      resource: (name) => {
        const r = live(name);
        if (!r) return null;
        const type = this.types[r.type];
        return type.referenceId
          ? type.referenceId(this.#resourceContext(stack, r, token, signal), r.physicalId)
          : r.physicalId;
      },
      attribute: async (name, attr) => {
        const r = live(name);
        if (!r) return null;
        const type = this.types[r.type];
        const ctx = this.#resourceContext(stack, r, token, signal);
        if (attr === 'show') return type.show ? type.show(ctx, r.physicalId) : {};
        const v = type.attribute ? await type.attribute(ctx, r.physicalId, attr, r.props) : undefined;
        if (v !== undefined) return v;
        if (!type.show)
          throw new HeatError(
            'InvalidTemplateAttribute',
            `The Referenced Attribute (${name} ${attr}) is incorrect.`,
          );
        const shown = await type.show(ctx, r.physicalId);
        if (!(attr in shown))
          throw new HeatError(
            'InvalidTemplateAttribute',
            `The Referenced Attribute (${name} ${attr}) is incorrect.`,
          );
        return shown[attr];
      },
      condition: (name) => stack.conditions[name] ?? false,
    };
  }

  async #poll(check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    let interval = this.pollMs.min;
    while (!(await check())) {
      await pause(interval, signal);
      interval = Math.min(this.pollMs.max, interval * 2);
    }
  }

  /**
   * Creates (or, on update, keeps / replaces) the resources `names` in
   * dependency order, independent ones in parallel. Returns the stack's
   * failure reason, or undefined when all completed.
   */
  async #forward(
    stack: Stack,
    token: string,
    names: string[],
    signal: AbortSignal,
    action: 'CREATE' | 'UPDATE',
  ): Promise<string | undefined> {
    const pending = new Set(names);
    const done = new Set([...stack.resources.keys()].filter((n) => !pending.has(n)));
    const running = new Map<string, Promise<void>>();
    let failure: string | undefined;
    for (;;) {
      if (!failure && !signal.aborted) {
        for (const n of stack.graph.ready(pending, done)) {
          pending.delete(n);
          const p = this.#createOne(stack, token, n, signal)
            .then(
              () => {
                done.add(n);
              },
              (e) => {
                failure ??= `Resource ${action} failed: ${stack.resources.get(n)?.reason || this.#reason(n, e)}`;
              },
            )
            .finally(() => running.delete(n));
          running.set(n, p);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    if (!failure && signal.aborted) failure = 'Timed out';
    return failure;
  }

  async #createOne(stack: Stack, token: string, name: string, signal: AbortSignal): Promise<void> {
    const def = stack.template.resources[name];
    const type = this.types[def.type];
    const r = stack.resources.get(name)!;
    const ctxResolve = this.#resolver(stack, token, signal);
    try {
      const props = (await resolve(def.properties, ctxResolve)) as Record<string, unknown>;
      for (const [p, schema] of Object.entries(type.properties))
        if (props[p] === undefined && schema.default !== undefined) props[p] = schema.default;
      r.props = props;
      this.#setResource(stack, r, 'CREATE', 'IN_PROGRESS', 'state changed');
      const ctx = this.#resourceContext(stack, r, token, signal);
      r.physicalId = await type.create(ctx, props);
      if (type.checkCreateComplete)
        await this.#poll(() => type.checkCreateComplete!(ctx, r.physicalId, props), signal);
      this.#setResource(stack, r, 'CREATE', 'COMPLETE', 'state changed');
    } catch (e) {
      const reason = signal.aborted
        ? `CREATE aborted (Task create from ${def.type} "${name}" Stack "${stack.name}" [${stack.id}] ${(signal.reason as Error)?.message ?? 'cancelled'})`
        : this.#reason(name, e);
      this.#setResource(stack, r, 'CREATE', 'FAILED', reason);
      throw e;
    }
  }

  /**
   * Deletes the resources `names` in reverse dependency order (a resource
   * only once nothing pending requires it). Returns the failure reason.
   */
  async #backward(
    stack: Stack,
    token: string,
    names: Set<string>,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const pending = new Set([...names].filter((n) => stack.resources.has(n)));
    const running = new Map<string, Promise<void>>();
    let failure: string | undefined;
    for (;;) {
      if (!failure) {
        for (const n of stack.graph.readyToDelete(pending)) {
          if (running.has(n)) continue;
          const r = stack.resources.get(n)!;
          const p = this.#destroy(stack, token, r, signal)
            .then(
              () => {
                pending.delete(n);
              },
              () => {
                failure ??= `Resource DELETE failed: ${r.reason}`;
              },
            )
            .finally(() => running.delete(n));
          running.set(n, p);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    return failure;
  }

  async #destroy(stack: Stack, token: string, r: StackResource, signal: AbortSignal): Promise<void> {
    if (r.action === 'DELETE' && r.status === 'COMPLETE') return;
    if (r.action === 'INIT' || !r.physicalId) {
      if (r.action !== 'INIT') this.#setResource(stack, r, 'DELETE', 'COMPLETE', 'state changed');
      return;
    }
    this.#setResource(stack, r, 'DELETE', 'IN_PROGRESS', 'state changed');
    const type = this.types[r.type];
    try {
      if (r.deletionPolicy !== 'Retain') {
        const ctx = this.#resourceContext(stack, r, token, signal);
        await type.delete(ctx, r.physicalId, r.props);
        if (type.checkDeleteComplete)
          await this.#poll(() => type.checkDeleteComplete!(ctx, r.physicalId, r.props), signal);
      }
      this.#setResource(stack, r, 'DELETE', 'COMPLETE', 'state changed');
    } catch (e) {
      this.#setResource(stack, r, 'DELETE', 'FAILED', this.#reason(r.name, e));
      throw e;
    }
  }
}
