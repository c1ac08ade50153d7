/**
 * The services table: one row per running dragon-engine (and other binaries),
 * refreshed by its heartbeat. A service is "up" while its last heartbeat is
 * younger than three heartbeat intervals, which tolerates two lost beats.
 */
import type { Knex } from 'knex';

export interface PluginInfo {
  name: string;
  resource_type: string;
  version: string;
  description: string;
  options_schema: Record<string, unknown>;
  /** The manifest's `requires` (plugin-api's ResourceRequirement): checked by the API at resource add. */
  requires?: { schema: Record<string, unknown>; message: string };
}

export interface ServiceRow {
  id: string;
  host: string;
  binary: string;
  version: string;
  plugins: PluginInfo[];
  last_heartbeat_at: Date;
  created_at: Date;
}

/** How many heartbeat intervals may pass before a service counts as down. */
export const MISSED_HEARTBEATS = 3;

export function aliveSince(heartbeatIntervalSeconds: number, now = new Date()): Date {
  return new Date(now.getTime() - MISSED_HEARTBEATS * heartbeatIntervalSeconds * 1000);
}

export function serviceState(
  row: Pick<ServiceRow, 'last_heartbeat_at'>,
  heartbeatIntervalSeconds: number,
  now = new Date(),
): 'up' | 'down' {
  return new Date(row.last_heartbeat_at) >= aliveSince(heartbeatIntervalSeconds, now) ? 'up' : 'down';
}

export interface ServiceFilters {
  binary?: string;
  host?: string;
}

export async function listServices(db: Knex, filters: ServiceFilters = {}): Promise<ServiceRow[]> {
  const q = db('services')
    .select('*')
    .orderBy([{ column: 'binary' }, { column: 'host' }]);
  if (filters.binary !== undefined) q.where('binary', filters.binary);
  if (filters.host !== undefined) q.where('host', filters.host);
  return (await q) as ServiceRow[];
}

/** Rows of engines heard from recently, newest heartbeat first. */
export async function liveEngines(db: Knex, heartbeatIntervalSeconds: number): Promise<ServiceRow[]> {
  return (await db('services')
    .where('binary', 'dragon-engine')
    .where('last_heartbeat_at', '>=', aliveSince(heartbeatIntervalSeconds))
    .orderBy('last_heartbeat_at', 'desc')) as ServiceRow[];
}
