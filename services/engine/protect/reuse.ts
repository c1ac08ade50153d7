/**
 * Reuse of objects earlier checkpoints saved (issue 6): the engine's side of
 * `BankWriter.findEarlier` / `reference`, and what deletion does about it.
 *
 * Dragon's database says which checkpoints are alive and which protects are
 * in flight; the bank says what each holds (manifests) and whether it is
 * still there (HEAD). A reference is recorded in `checkpoint_references`
 * before the object is checked, and deletion keeps every object a checkpoint
 * that is available or still being written has recorded, so either the
 * deletion sees the reference, or the protect sees the object gone (at the
 * reference or, at the latest, just before its manifest) and fails or copies.
 */
import type { Knex } from 'knex';
import type { CheckpointRow } from '../../common/objects/checkpoints.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import {
  deleteCheckpoint,
  type Manifest,
  META,
  metaKey,
  type OfferedObject,
  type ReferenceLedger,
  readManifest,
  referenceProblem,
} from '../bank/index.js';
import type { BankReference, EarlierMatch, PluginLogger } from '../plugin-api.js';

const TABLE = 'checkpoint_references';

/** Checkpoint statuses whose references must hold: usable, or being written. */
const LIVE = ['creating', 'available'];

/** Earlier checkpoints looked at for a copy, newest first: reuse is about the recent past. */
const MAX_CANDIDATES = 20;

interface ReferenceRow {
  checkpoint_id: string;
  container: string;
  object: string;
  size: number | string;
  sha256: string;
  source_checkpoint_id: string;
}

const toReference = (r: ReferenceRow): BankReference => ({
  container: r.container,
  object: r.object,
  size: Number(r.size),
  sha256: r.sha256,
  checkpoint_id: r.source_checkpoint_id,
});

/** The ledger a protect's bank writer uses: earlier checkpoints of the project in the same bank. */
export function referenceLedger(
  db: Knex,
  swift: SwiftClient,
  checkpoint: Pick<CheckpointRow, 'id' | 'project_id' | 'site'>,
  log: PluginLogger,
  /** This checkpoint's `X-Container-Read`: whoever may read it must be able to read what it references. */
  readAcl?: string,
): ReferenceLedger {
  const aclEntries = (acl: string | undefined) =>
    new Set(
      (acl ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    );
  const needed = aclEntries(readAcl);
  return {
    async find(object: string, match: EarlierMatch): Promise<OfferedObject | undefined> {
      const candidates = (await db('checkpoints')
        .where({ project_id: checkpoint.project_id, site: checkpoint.site, status: 'available' })
        .whereNot({ id: checkpoint.id })
        .whereNot({ container: '' })
        .whereNotNull('execution_id')
        .orderBy('created_at', 'desc')
        .limit(MAX_CANDIDATES)) as CheckpointRow[];
      for (const cand of candidates) {
        const steps = (await db('execution_steps')
          .where({ execution_id: cand.execution_id, status: 'succeeded' })
          .select('name', 'action', 'result')) as Array<{ name: string; action: string; result: unknown }>;
        const step = steps.find(
          (s) =>
            s.result !== null &&
            typeof s.result === 'object' &&
            match(s.result as Record<string, unknown>, { name: s.name, action: s.action }),
        );
        if (!step) continue;
        let manifest: Manifest;
        try {
          manifest = await readManifest(swift, cand.container);
        } catch (err) {
          log.warn(
            { container: cand.container, err: (err as Error).message },
            'earlier checkpoint not readable',
          );
          continue;
        }
        const own = manifest.objects.find((o) => o.name === object);
        const referenced = manifest.references?.find((r) => r.object === object);
        // A reference of a reference points at the container that holds the bytes: no chains.
        const ref: BankReference | undefined = own
          ? { container: cand.container, object, size: own.size, sha256: own.sha256, checkpoint_id: cand.id }
          : referenced
            ? { ...referenced }
            : undefined;
        if (!ref) continue;
        if (needed.size > 0) {
          const granted = aclEntries((await swift.containerInfo(ref.container))?.read);
          if (![...needed].every((e) => granted.has(e))) {
            log.info(
              { container: ref.container },
              'earlier copy not readable by every bank reader; not reused',
            );
            continue;
          }
        }
        const problem = await referenceProblem(swift, ref);
        if (problem) {
          log.info({ object: `${ref.container}/${ref.object}`, problem }, 'earlier copy not reusable');
          continue;
        }
        return { ...ref, saved: step.result as Record<string, unknown>, offeredBy: cand.id };
      }
      return undefined;
    },
    async record(ref: BankReference, offeredBy: string): Promise<void> {
      // The offering checkpoint is read FOR SHARE: its deletion (which marks it `deleting` before it
      // reads the references to keep) waits for this insert, or has begun and refuses it here.
      await db.transaction(async (trx) => {
        const offering = await trx('checkpoints')
          .where({ id: offeredBy, status: 'available' })
          .forShare()
          .first('id');
        if (!offering)
          throw new Error(
            `the earlier checkpoint ${offeredBy} holding ${ref.container}/${ref.object} is no longer available`,
          );
        await trx(TABLE)
          .insert({
            checkpoint_id: checkpoint.id,
            container: ref.container,
            object: ref.object,
            size: ref.size,
            sha256: ref.sha256,
            source_checkpoint_id: ref.checkpoint_id,
            created_at: new Date(),
          })
          .onConflict(['checkpoint_id', 'object'])
          .merge();
      });
    },
    async forget(ref: BankReference): Promise<void> {
      await db(TABLE).where({ checkpoint_id: checkpoint.id, object: ref.object }).delete();
    },
    async recorded(): Promise<BankReference[]> {
      const rows = (await db(TABLE).where({ checkpoint_id: checkpoint.id })) as ReferenceRow[];
      return rows.map(toReference);
    },
  };
}

/**
 * Objects of `container` that other checkpoints of the same bank (site and project), available or
 * still being written, reference: what deleting that container must keep.
 */
export async function liveReferencedObjects(
  db: Knex,
  at: { container: string; site: string; project_id: string; exceptCheckpoint?: string },
): Promise<string[]> {
  const q = db(`${TABLE} as r`)
    .join('checkpoints as c', 'c.id', 'r.checkpoint_id')
    .where('r.container', at.container)
    .where('c.site', at.site)
    .where('c.project_id', at.project_id)
    .whereIn('c.status', LIVE)
    .distinct('r.object');
  if (at.exceptCheckpoint) q.whereNot('c.id', at.exceptCheckpoint);
  return ((await q) as Array<{ object: string }>).map((r) => r.object).sort();
}

/**
 * Removes a checkpoint from the bank, keeping (container status `retained`) the objects live
 * checkpoints reference; then collects the retained containers it referenced itself that nothing
 * live uses any more. Returns what stayed.
 */
export async function removeCheckpointContainer(
  db: Knex,
  swift: SwiftClient,
  checkpoint: Pick<CheckpointRow, 'id' | 'container' | 'site' | 'project_id'>,
  log: PluginLogger,
): Promise<{ retained: string[]; collected: string[] }> {
  let retained: string[] = [];
  if (checkpoint.container) {
    const keep = await liveReferencedObjects(db, {
      container: checkpoint.container,
      site: checkpoint.site,
      project_id: checkpoint.project_id,
      exceptCheckpoint: checkpoint.id,
    });
    ({ retained } = await deleteCheckpoint({ swift, container: checkpoint.container, keep }));
    if (retained.length > 0)
      log.info(
        { container: checkpoint.container, objects: retained },
        'checkpoint deleted; its container is retained for objects newer checkpoints reference',
      );
  }
  const collected = await collectRetained(db, swift, checkpoint, log);
  return { retained, collected };
}

/**
 * After a checkpoint is gone: its references no longer hold anything, and a retained container it
 * referenced is removed once no live checkpoint references it (or shrinks to what they still do).
 */
export async function collectRetained(
  db: Knex,
  swift: SwiftClient,
  checkpoint: Pick<CheckpointRow, 'id' | 'site' | 'project_id'>,
  log: PluginLogger,
): Promise<string[]> {
  const containers = (
    (await db(TABLE).where({ checkpoint_id: checkpoint.id }).distinct('container')) as Array<{
      container: string;
    }>
  ).map((r) => r.container);
  const collected: string[] = [];
  for (const container of containers) {
    // Only a container Dragon itself retained (or was shrinking when a collection failed part way: it
    // is marked `deleting` meanwhile); an available checkpoint lives on by its own rules.
    const status = (await swift.containerInfo(container))?.metadata[metaKey(META.status)];
    if (status !== 'retained' && status !== 'deleting') continue;
    const keep = await liveReferencedObjects(db, {
      container,
      site: checkpoint.site,
      project_id: checkpoint.project_id,
      // Still `creating` when a cancelled protect is cleaned up: its own references hold nothing.
      exceptCheckpoint: checkpoint.id,
    });
    await deleteCheckpoint({ swift, container, keep });
    if (keep.length === 0) {
      collected.push(container);
      log.info({ container }, 'retained container removed: no checkpoint references it any more');
    }
  }
  // Last: a collection that fails part way is done again when the deletion is retried.
  await db(TABLE).where({ checkpoint_id: checkpoint.id }).delete();
  return collected;
}
