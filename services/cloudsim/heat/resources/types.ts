/**
 * What a resource type (a Heat "resource plugin") implements. Like Heat's
 * handle_create / check_create_complete / handle_delete /
 * check_delete_complete / _resolve_attribute: create starts the work and
 * returns the physical id, the check functions are polled until true.
 */
import type { CloudApi } from './api.js';

export interface PropertySchema {
  required?: boolean;
  default?: unknown;
}

export interface ResourceContext {
  /** Logical name in the template. */
  name: string;
  stackName: string;
  stackId: string;
  /** The cloud's APIs, called over HTTP with the stack owner's token. */
  api: CloudApi;
  /** Per-resource data kept by the engine (Heat's resource data), e.g. a generated private key. */
  data: Record<string, string>;
  signal: AbortSignal;
}

export interface ResourceType {
  properties: Record<string, PropertySchema>;
  create(ctx: ResourceContext, props: Record<string, unknown>): Promise<string>;
  /** Polled after create until true; throws to fail the resource. */
  checkCreateComplete?(ctx: ResourceContext, id: string, props: Record<string, unknown>): Promise<boolean>;
  /** Starts deleting; a missing (404) resource counts as deleted. */
  delete(ctx: ResourceContext, id: string, props: Record<string, unknown>): Promise<void>;
  checkDeleteComplete?(ctx: ResourceContext, id: string, props: Record<string, unknown>): Promise<boolean>;
  /** The physical resource as its API shows it: the `show` attribute and the fallback for other attributes. */
  show?(ctx: ResourceContext, id: string): Promise<Record<string, unknown>>;
  /** A named attribute; undefined falls back to the field of show(). */
  attribute?(
    ctx: ResourceContext,
    id: string,
    name: string,
    props: Record<string, unknown>,
  ): Promise<unknown>;
  /** What get_resource returns (default: the physical id). */
  referenceId?(ctx: ResourceContext, id: string): string;
}

/** A resource failed in a way Heat reports with this exception name (BadRequest, NotFound, ResourceInError...). */
export class ResourceFailure extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Sleep that ends early when the stack is cancelled (timeout). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Heat names unnamed physical resources `<stack>-<resource>-<random>`. */
export function physicalName(ctx: ResourceContext, given: unknown): string {
  if (typeof given === 'string' && given) return given;
  const suffix = Math.random().toString(36).slice(2, 14);
  return `${ctx.stackName}-${ctx.name}-${suffix}`;
}
