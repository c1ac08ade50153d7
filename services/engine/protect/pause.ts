/**
 * `consistency: paused`: Nova pause of a policy's servers for the shortest
 * window around the point-in-time captures, and the unpause that must
 * always follow (early, as soon as every capture is done, and again when
 * the protect ends whatever its outcome — idempotent).
 */
import type { NovaClient } from '../../common/openstack/nova.js';
import type { PluginLogger } from '../plugin-api.js';

const WAIT = { timeoutMs: 120_000, intervalMs: 200 };

/**
 * Pauses every ACTIVE server of the list and waits until each is PAUSED.
 * Returns the ids it paused (a server that was not ACTIVE — stopped, or
 * already paused by its owner — is left as it is and not returned, so it is
 * never unpaused by Dragon). On any failure, unpauses what it paused and throws.
 */
export async function pauseServers(
  nova: NovaClient,
  serverIds: string[],
  log: PluginLogger,
  signal: AbortSignal,
): Promise<string[]> {
  const paused: string[] = [];
  try {
    // All at once: the servers stop as close together in time as Nova allows.
    const results = await Promise.allSettled(
      serverIds.map(async (id) => {
        signal.throwIfAborted();
        const server = await nova.findServer(id);
        if (!server) {
          // A resource the policy does not require may be gone; its own step decides what that means.
          log.info({ server_id: id }, 'server not found; nothing to pause');
          return;
        }
        if (server.status !== 'ACTIVE') {
          log.info({ server_id: id, status: server.status }, 'server not ACTIVE; not pausing it');
          return;
        }
        await nova.pauseServer(id);
        paused.push(id);
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await Promise.all(paused.map((id) => nova.waitForServer(id, 'PAUSED', { ...WAIT, signal })));
    paused.sort();
    log.info({ servers: paused }, 'paused the servers of the policy');
    return paused;
  } catch (err) {
    await unpauseServers(nova, paused, log).catch((e) =>
      log.error({ err: (e as Error).message, servers: paused }, 'could not unpause after a failed pause'),
    );
    throw err;
  }
}

/**
 * Unpauses the servers that are PAUSED (or still pausing) and waits until
 * they are ACTIVE; a server already ACTIVE (unpaused earlier) or gone is
 * skipped. Tries every server; throws the first error at the end.
 */
export async function unpauseServers(
  nova: NovaClient,
  serverIds: string[],
  log: PluginLogger,
): Promise<void> {
  let first: unknown;
  const unpaused: string[] = [];
  await Promise.all(
    serverIds.map(async (id) => {
      try {
        let server = await nova.findServer(id);
        if (!server) return;
        if (server.status !== 'PAUSED' && server['OS-EXT-STS:task_state'] === 'pausing')
          server = await nova.waitForServer(id, 'PAUSED', WAIT);
        if (server.status !== 'PAUSED') return;
        await nova.unpauseServer(id);
        await nova.waitForServer(id, 'ACTIVE', WAIT);
        unpaused.push(id);
      } catch (err) {
        first ??= err;
      }
    }),
  );
  if (unpaused.length > 0) log.info({ servers: unpaused }, 'unpaused the servers of the policy');
  if (first) throw first;
}
