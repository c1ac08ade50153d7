/**
 * The checkpoints of an account, found from the bank alone (container
 * metadata and manifests, no database), so a workload can be recovered even
 * when the Dragon that protected it is gone; and their removal.
 */

import { mapLimited } from '../../common/concurrency.js';
import { OpenStackHttpError } from '../../common/openstack/errors.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import { type BankStatus, MANIFEST_OBJECT, type Manifest, META, metaKey } from './format.js';
import { segmentContainerName } from './names.js';
import { readManifest } from './reader.js';
import { markStatus } from './writer.js';

export interface BankCheckpointSummary {
  container: string;
  checkpointId: string;
  formatVersion: number;
  projectId: string;
  policy: { id: string; name: string };
  status: BankStatus | string;
  statusReason?: string;
  createdAt?: string;
  /** From the manifest, when there is one. */
  resourceCount?: number;
  totalSize?: number;
  objectCount?: number;
  /** Whether recovery may use it; `reason` says why not. */
  usable: boolean;
  reason?: string;
}

/**
 * Lists the account's checkpoint containers (those with Dragon metadata),
 * optionally of one project, oldest first. Each is checked cheaply: status,
 * manifest present and readable, every object of the manifest present in
 * the container listing. Bytes are not re-read (that is verify's job).
 */
export async function listCheckpointsInBank(opts: {
  swift: SwiftClient;
  projectId?: string;
}): Promise<BankCheckpointSummary[]> {
  const names = (await opts.swift.listContainers()).map((c) => c.name);
  const all = new Set(names);
  // A checkpoint's `_segments` container has no Dragon metadata: no need to ask.
  const candidates = names.filter(
    (n) => !(n.endsWith('_segments') && all.has(n.slice(0, -'_segments'.length))),
  );
  const found = await mapLimited(candidates, LIST_CONCURRENCY, (name) =>
    summarise(opts.swift, name, opts.projectId),
  );
  return found
    .filter((s): s is BankCheckpointSummary => s !== undefined)
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
}

/** Containers examined at once: a bank may hold hundreds of checkpoints. */
const LIST_CONCURRENCY = 8;

async function summarise(
  swift: SwiftClient,
  container: string,
  projectId: string | undefined,
): Promise<BankCheckpointSummary | undefined> {
  const meta = (await swift.containerInfo(container))?.metadata;
  if (!meta?.[metaKey(META.format)]) return undefined;
  const project = meta[metaKey(META.project)] ?? '';
  if (projectId && project !== projectId) return undefined;
  const summary: BankCheckpointSummary = {
    container,
    checkpointId: meta[metaKey(META.checkpointId)] ?? '',
    formatVersion: Number(meta[metaKey(META.format)]),
    projectId: project,
    policy: { id: meta[metaKey(META.policyId)] ?? '', name: meta[metaKey(META.policyName)] ?? '' },
    status: meta[metaKey(META.status)] ?? 'unknown',
    statusReason: meta[metaKey(META.statusReason)],
    createdAt: meta[metaKey(META.createdAt)],
    usable: false,
  };
  if (summary.status === 'retained') {
    // A deleted checkpoint whose container only still holds what newer checkpoints reference.
    summary.reason =
      'status retained: a deleted checkpoint, kept only for objects newer checkpoints reference';
    return summary;
  }
  let manifest: Manifest;
  try {
    manifest = await readManifest(swift, container);
  } catch (err) {
    summary.reason = err instanceof Error ? err.message : String(err);
    if (summary.status === 'error')
      summary.reason = `status error${summary.statusReason ? `: ${summary.statusReason}` : ''}; ${summary.reason}`;
    return summary;
  }
  summary.resourceCount = Array.isArray(manifest.policy?.resources) ? manifest.policy.resources.length : 0;
  summary.totalSize = manifest.total_size;
  summary.objectCount = manifest.objects.length;
  summary.createdAt = manifest.created_at ?? summary.createdAt;
  if (summary.status !== 'available') {
    summary.reason = `status ${summary.status}${summary.statusReason ? `: ${summary.statusReason}` : ''}`;
    return summary;
  }
  // Swift lists a Static Large Object with its total size, so every object's size can be compared.
  const listings = new Map<string, Promise<Map<string, number> | undefined>>();
  const listing = (c: string) => {
    let l = listings.get(c);
    if (!l) {
      l = swift
        .listObjects(c)
        .then((os) => new Map(os.map((o) => [o.name, o.bytes] as const)))
        .catch((err) => {
          if (err instanceof OpenStackHttpError && err.status === 404) return undefined;
          throw err;
        });
      listings.set(c, l);
    }
    return l;
  };
  // The checkpoint's own objects by name, then the referenced ones as `<container>/<object>`.
  const wanted = [
    ...manifest.objects.map((o) => ({ container, name: o.name, size: o.size, label: o.name })),
    ...(manifest.references ?? []).map((r) => ({
      container: r.container,
      name: r.object,
      size: r.size,
      label: `${r.container}/${r.object}`,
    })),
  ];
  const missing: string[] = [];
  const wrongSize: string[] = [];
  for (const w of wanted) {
    const present = await listing(w.container);
    const bytes = present?.get(w.name);
    if (bytes === undefined) missing.push(w.label);
    else if (bytes !== w.size) wrongSize.push(`${w.label} (${bytes} bytes, manifest ${w.size})`);
  }
  if (missing.length > 0) summary.reason = `objects missing: ${missing.join(', ')}`;
  else if (wrongSize.length > 0)
    summary.reason = `objects do not match the manifest: ${wrongSize.join(', ')}`;
  else summary.usable = true;
  return summary;
}

/**
 * Deletes a checkpoint from the bank: every object (the SLO segments with
 * their container) and the container itself, with bulk deletes. Marked
 * `deleting` first, so a checkpoint half removed is never taken as usable.
 * Deleting one that is already gone succeeds.
 *
 * `keep` names objects newer checkpoints reference: those (with their SLO
 * segments) and the containers stay, the manifest and everything else go, and
 * the container's status becomes `retained` — never a checkpoint again, only a
 * holder of those objects until the last checkpoint referencing them goes.
 */
export async function deleteCheckpoint(opts: {
  swift: SwiftClient;
  container: string;
  keep?: string[];
}): Promise<{ retained: string[] }> {
  const { swift, container } = opts;
  const segments = segmentContainerName(container);
  const exists = await swift.containerInfo(container);
  if (exists) await markStatus(swift, container, 'deleting');
  // The manifest first: whatever happens next, the checkpoint is no longer complete.
  if (exists) await swift.deleteObject(container, MANIFEST_OBJECT).catch(() => false);
  const objects = exists ? await swift.listObjects(container) : [];
  const keep = new Set((opts.keep ?? []).filter((k) => objects.some((o) => o.name === k)));
  // A kept Static Large Object needs its segments too.
  const keptSegments = new Set<string>();
  for (const name of keep) {
    const head = await swift.headObject(container, name);
    if (head?.staticLargeObject)
      for (const seg of await swift.getManifest(container, name))
        keptSegments.add(seg.path.replace(/^\//, ''));
  }
  const paths: string[] = [];
  for (const o of objects) if (!keep.has(o.name)) paths.push(`${container}/${o.name}`);
  if (await swift.containerInfo(segments))
    for (const o of await swift.listObjects(segments)) {
      const path = `${segments}/${o.name}`;
      if (!keptSegments.has(path)) paths.push(path);
    }
  const deleted = await swift.bulkDelete(paths);
  const errors = [...deleted.errors];
  if (keep.size > 0) {
    await markStatus(
      swift,
      container,
      'retained',
      `kept for newer checkpoints: ${[...keep].sort().join(', ')}`,
    );
  } else {
    const containers = await swift.bulkDelete([container, segments]);
    errors.push(...containers.errors);
  }
  if (errors.length > 0)
    throw new Error(
      `bank: deleting checkpoint ${container} failed: ${errors.map(([p, e]) => `${p}: ${e}`).join('; ')}`,
    );
  return { retained: [...keep].sort() };
}
