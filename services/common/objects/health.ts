/** The health of the things dragon-api depends on, for /healthcheck. Only up/down: never URLs or errors. */
import type { Knex } from 'knex';
import type { Transport } from '../rpc/types.js';

export interface HealthChecks {
  database: 'ok' | 'down';
  messaging: 'ok' | 'down';
}

const DB_TIMEOUT_MS = 2000;

export async function checkHealth(db: Knex, transport: Transport): Promise<HealthChecks> {
  // Async so that even a synchronous throw (no pool, bad driver) counts as "down", never as a 500.
  const ping = async (): Promise<'ok'> => {
    await db.raw('select 1');
    return 'ok';
  };
  const database = await Promise.race([
    ping().catch(() => 'down' as const),
    new Promise<'down'>((resolve) => setTimeout(() => resolve('down'), DB_TIMEOUT_MS).unref()),
  ]);
  let messaging: 'ok' | 'down';
  try {
    messaging = transport.status() === 'ok' ? 'ok' : 'down';
  } catch {
    messaging = 'down';
  }
  return { database, messaging };
}
