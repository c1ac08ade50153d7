/**
 * HOT intrinsic functions: get_param, get_resource, get_attr, list_join,
 * str_replace, str_split, map_merge, if (with the `conditions` section), and
 * the condition functions equals/not/and/or. A function is a one-key map
 * whose key is the function name; everything else is data walked recursively.
 */
import { HeatError } from './errors.js';

export interface ResolveContext {
  param(name: string): unknown;
  /** The reference id of a resource (its physical id, or e.g. RandomString's value). */
  resource(name: string): unknown;
  attribute(resource: string, attr: string): Promise<unknown>;
  condition(name: string): boolean;
}

const FUNCTIONS = new Set([
  'get_param',
  'get_resource',
  'get_attr',
  'list_join',
  'str_replace',
  'str_split',
  'map_merge',
  'if',
]);

function isFunction(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && FUNCTIONS.has(keys[0]);
}

/** Follows a path of keys / list indexes into a value (get_param and get_attr extra arguments). */
export function walkPath(value: unknown, path: unknown[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined) return null;
    if (Array.isArray(v)) v = v[Number(key)];
    else if (typeof v === 'object') v = (v as Record<string, unknown>)[String(key)];
    else if (typeof v === 'string') {
      // Heat lets a path go into a JSON string parameter.
      try {
        v = (JSON.parse(v) as Record<string, unknown>)[String(key)];
      } catch {
        return null;
      }
    } else return null;
  }
  return v ?? null;
}

function args(fn: string, v: unknown, min: number): unknown[] {
  const a = Array.isArray(v) ? v : [v];
  if (a.length < min)
    throw new HeatError('StackValidationFailed', `Arguments to "${fn}" must be of the form: ${fn}: [...]`);
  return a;
}

export async function resolve(value: unknown, ctx: ResolveContext): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolve(v, ctx)));
  if (typeof value !== 'object' || value === null) return value;
  if (!isFunction(value)) {
    // Side by side, as Heat reads cached attribute values: 50 get_attr in one output is not 50 round trips in a row.
    const entries = Object.entries(value);
    const values = await Promise.all(entries.map(([, v]) => resolve(v, ctx)));
    return Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
  }
  const [fn, raw] = Object.entries(value)[0];
  switch (fn) {
    case 'get_param': {
      const a = (await resolve(Array.isArray(raw) ? raw : [raw], ctx)) as unknown[];
      const v = ctx.param(String(a[0]));
      return a.length > 1 ? walkPath(v, a.slice(1)) : v;
    }
    case 'get_resource':
      return ctx.resource(String(await resolve(raw, ctx)));
    case 'get_attr': {
      const a = (await resolve(args(fn, raw, 2), ctx)) as unknown[];
      const v = await ctx.attribute(String(a[0]), String(a[1]));
      return a.length > 2 ? walkPath(v, a.slice(2)) : v;
    }
    case 'list_join': {
      const a = (await resolve(args(fn, raw, 2), ctx)) as unknown[];
      const sep = String(a[0]);
      const items = a.slice(1).flatMap((l) => (Array.isArray(l) ? l : [l]));
      return items
        .map((i) => (typeof i === 'object' && i !== null ? JSON.stringify(i) : String(i ?? '')))
        .join(sep);
    }
    case 'str_replace': {
      const a = (await resolve(raw, ctx)) as { template?: unknown; params?: Record<string, unknown> };
      if (typeof a?.template !== 'string' || typeof a.params !== 'object' || a.params === null)
        throw new HeatError(
          'StackValidationFailed',
          '"str_replace" parameters must be a mapping with template and params',
        );
      let out = a.template;
      // Longest keys first, as Heat does, so "$var1" is not eaten by "$var".
      for (const k of Object.keys(a.params).sort((x, y) => y.length - x.length)) {
        const p = a.params[k];
        out = out.split(k).join(typeof p === 'object' && p !== null ? JSON.stringify(p) : String(p ?? ''));
      }
      return out;
    }
    case 'str_split': {
      const a = (await resolve(args(fn, raw, 2), ctx)) as unknown[];
      const parts = String(a[1]).split(String(a[0]));
      return a.length > 2 ? parts[Number(a[2])] : parts;
    }
    case 'map_merge': {
      const a = (await resolve(raw, ctx)) as unknown[];
      return Object.assign({}, ...(Array.isArray(a) ? a : []));
    }
    case 'if': {
      const a = args(fn, raw, 3);
      const cond = typeof a[0] === 'string' ? ctx.condition(a[0]) : evaluateCondition(a[0], ctx);
      return resolve(cond ? a[1] : a[2], ctx);
    }
  }
  return value;
}

/** A condition expression: a condition name, a boolean, or equals/not/and/or over get_param. */
export function evaluateCondition(expr: unknown, ctx: Pick<ResolveContext, 'param' | 'condition'>): boolean {
  if (typeof expr === 'boolean') return expr;
  if (typeof expr === 'string') return ctx.condition(expr);
  if (typeof expr !== 'object' || expr === null) return Boolean(expr);
  const [fn, raw] = Object.entries(expr)[0] ?? [];
  const value = (v: unknown): unknown => {
    if (typeof v === 'object' && v !== null && 'get_param' in v) {
      const a = (v as { get_param: unknown }).get_param;
      const p = Array.isArray(a) ? a : [a];
      const got = ctx.param(String(p[0]));
      return p.length > 1 ? walkPath(got, p.slice(1)) : got;
    }
    return v;
  };
  switch (fn) {
    case 'equals': {
      const [a, b] = raw as unknown[];
      return JSON.stringify(value(a)) === JSON.stringify(value(b));
    }
    case 'not':
      return !evaluateCondition(raw, ctx);
    case 'and':
      return (raw as unknown[]).every((c) => evaluateCondition(c, ctx));
    case 'or':
      return (raw as unknown[]).some((c) => evaluateCondition(c, ctx));
  }
  throw new HeatError('StackValidationFailed', `Invalid condition function "${fn}"`);
}

export interface Reference {
  kind: 'get_resource' | 'get_attr';
  resource: string;
  /** Where in the template, for messages: "server.Properties.networks[0].port". */
  path: string;
}

/** The resources a value refers to (get_resource / get_attr), with where they are referred from. */
export function references(value: unknown, path: string, out: Reference[] = []): Reference[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      references(v, `${path}[${i}]`, out);
    });
    return out;
  }
  if (typeof value !== 'object' || value === null) return out;
  if (isFunction(value)) {
    const [fn, raw] = Object.entries(value)[0];
    if (fn === 'get_resource' && typeof raw === 'string') out.push({ kind: fn, resource: raw, path });
    if (fn === 'get_attr' && Array.isArray(raw) && typeof raw[0] === 'string')
      out.push({ kind: fn, resource: raw[0], path });
    references(raw, path, out);
    return out;
  }
  for (const [k, v] of Object.entries(value)) references(v, `${path}.${k}`, out);
  return out;
}

/** True when the value holds a function (its final value is only known at create time). */
export function hasFunction(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasFunction);
  if (typeof value !== 'object' || value === null) return false;
  return isFunction(value) || Object.values(value).some(hasFunction);
}

/** The parameters a value reads with get_param (an update re-creates a resource when one changed). */
export function paramNames(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) paramNames(v, out);
    return out;
  }
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'get_param') {
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === 'string') out.push(first);
    }
    paramNames(v, out);
  }
  return out;
}
