/**
 * Removing what a recovery created at its site: the Heat stack first (it
 * holds the servers, ports, networks and the attachments of the restored
 * volumes), then what the recover steps made outside it (restored volumes,
 * imported images, key pairs), newest first. Used by rollback, by cancel
 * and by DELETE /v1/recoveries/{id}. Removing what is already gone succeeds.
 */
import type { Logger } from '../../common/log.js';
import { OpenStackHttpError } from '../../common/openstack/errors.js';
import type { CreatedResource, SiteClients } from '../plugin-api.js';

export interface TeardownInput {
  site: SiteClients;
  stack?: { name: string; id: string | null } | null;
  created: CreatedResource[];
  log: Logger;
  signal?: AbortSignal;
}

export interface TeardownResult {
  removed: string[];
  failed: Array<{ resource: string; error: string }>;
}

const gone = (err: unknown) => err instanceof OpenStackHttpError && err.status === 404;
const WAIT = { intervalMs: 200, maxIntervalMs: 3000, timeoutMs: 30 * 60_000 };

export async function teardownRecovery(input: TeardownInput): Promise<TeardownResult> {
  const { site, log } = input;
  const removed: string[] = [];
  const failed: TeardownResult['failed'] = [];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      removed.push(what);
    } catch (err) {
      if (gone(err)) {
        removed.push(what);
        return;
      }
      const error = (err as Error).message;
      log.warn({ resource: what, err: error }, 'could not remove what the recovery created');
      failed.push({ resource: what, error });
    }
  };

  if (input.stack?.id) {
    const ref = { name: input.stack.name, id: input.stack.id };
    await attempt(`stack ${ref.name} (${ref.id})`, async () => {
      await site.heat.deleteStack(ref);
      await site.heat.waitForStack(ref, 'DELETE_COMPLETE', { ...WAIT, signal: input.signal });
    });
  }
  for (const c of [...input.created].reverse()) {
    if (c.type === 'OS::Cinder::Volume') {
      if (c.undo === 'unmanage')
        await attempt(`volume ${c.id} (unmanaged)`, () => site.cinder.unmanageVolume(c.id));
      else
        await attempt(`volume ${c.id}`, async () => {
          await site.cinder.deleteVolume(c.id);
          await site.cinder.waitForVolumeDeleted(c.id, { ...WAIT, signal: input.signal });
        });
    } else if (c.type === 'OS::Glance::Image') {
      await attempt(`image ${c.id}`, () => site.glance.deleteImage(c.id));
    } else if (c.type === 'OS::Nova::KeyPair') {
      await attempt(`key pair ${c.id}`, () => site.nova.deleteKeypair(c.id));
    }
  }
  return { removed, failed };
}
