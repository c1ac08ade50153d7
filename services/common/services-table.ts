/** The services table: one row per (host, binary), refreshed by each service's heartbeat. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface ServiceRecord {
  host: string;
  binary: string;
  version: string;
  plugins?: unknown[];
}

export async function recordService(db: Knex, s: ServiceRecord): Promise<void> {
  await db('services')
    .insert({
      id: randomUUID(),
      host: s.host,
      binary: s.binary,
      version: s.version,
      plugins: JSON.stringify(s.plugins ?? []),
      last_heartbeat_at: db.fn.now(),
      created_at: db.fn.now(),
    })
    .onConflict(['host', 'binary'])
    .merge(['version', 'plugins', 'last_heartbeat_at']);
}
