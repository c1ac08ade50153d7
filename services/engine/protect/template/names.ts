/**
 * Stable HOT resource names. A name is `<kind>_<sanitised OpenStack name>_<short id>`:
 * readable in `openstack stack resource list`, and the same for the same
 * input, so two checkpoints of an unchanged workload have identical templates.
 * The short id keeps two resources of the same name apart; when even the
 * short ids collide the suffix grows until the names differ.
 */

const SHORT_ID = 6;
const MAX_STEM = 24;

/** Lower-case letters, digits and `_` only (a HOT name that is also a safe parameter prefix). */
export function sanitise(name: string | null | undefined): string {
  return (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_STEM)
    .replace(/_+$/g, '');
}

function compactId(id: string): string {
  const c = id.toLowerCase().replace(/[^a-z0-9]/g, '');
  return c.length > 0 ? c : 'x';
}

export interface NameRequest {
  kind: string;
  name: string | null | undefined;
  id: string;
}

/**
 * Names every request. The result depends only on the set of requests (they
 * are ordered by kind and id first), never on the order they were collected in.
 */
export function allocateNames(requests: NameRequest[]): Map<string, string> {
  const key = (r: NameRequest) => `${r.kind}\u0000${r.id}`;
  const sorted = [...new Map(requests.map((r) => [key(r), r])).values()].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0,
  );
  const out = new Map<string, string>();
  let length = SHORT_ID;
  for (;;) {
    const seen = new Set<string>();
    let clash = false;
    out.clear();
    for (const r of sorted) {
      const stem = sanitise(r.name);
      const n = [r.kind, stem, compactId(r.id).slice(0, length)].filter(Boolean).join('_');
      if (seen.has(n)) clash = true;
      seen.add(n);
      out.set(key(r), n);
    }
    if (!clash || length >= 64) break;
    length += 2;
  }
  return out;
}

/** The name allocateNames gave (kind, id). */
export function nameOf(names: Map<string, string>, kind: string, id: string): string {
  const n = names.get(`${kind}\u0000${id}`);
  if (!n) throw new Error(`no template name for ${kind} ${id}`);
  return n;
}
