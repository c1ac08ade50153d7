/** Shared by the Neutron resource types: delete ignoring 404, wait-gone, show. */
import type { ResourceContext } from './types.js';

export async function neutronDelete(ctx: ResourceContext, plural: string, id: string): Promise<void> {
  await ctx.api.call('network', 'DELETE', `/${plural}/${id}`, undefined, [404]);
}

export async function neutronShow(ctx: ResourceContext, plural: string, key: string, id: string) {
  const r = await ctx.api.call<Record<string, Record<string, unknown>>>('network', 'GET', `/${plural}/${id}`);
  return r.body[key];
}

export async function neutronGone(ctx: ResourceContext, plural: string, id: string): Promise<boolean> {
  const r = await ctx.api.call('network', 'GET', `/${plural}/${id}`, undefined, [404]);
  return r.status === 404;
}

/** Copies the properties that are set, under Neutron's field names. */
export function pick(props: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (props[k] !== undefined && props[k] !== null) out[k] = props[k];
  return out;
}
