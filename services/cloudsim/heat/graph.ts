/**
 * The dependency graph of a stack's resources: an edge for each depends_on,
 * get_resource and get_attr. Creation walks it forwards (a resource starts
 * once everything it requires is complete, independent ones in parallel),
 * deletion backwards.
 */
import { HeatError } from './errors.js';

export class DependencyGraph {
  /** resource → the resources it requires. */
  readonly requires = new Map<string, Set<string>>();

  constructor(nodes: Iterable<string>) {
    for (const n of nodes) this.requires.set(n, new Set());
  }

  add(from: string, to: string): void {
    this.requires.get(from)?.add(to);
  }

  /** The resources that require `name` (Heat's `required_by`). */
  requiredBy(name: string): string[] {
    return [...this.requires].filter(([, deps]) => deps.has(name)).map(([n]) => n);
  }

  /** A creation order (ties in template order); throws CircularDependencyException on a cycle. */
  order(): string[] {
    const out: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, trail: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting')
        throw new HeatError(
          'CircularDependencyException',
          `Circular Dependency Found: ${[...trail.slice(trail.indexOf(n)), n].join(' -> ')}`,
        );
      state.set(n, 'visiting');
      for (const d of this.requires.get(n) ?? []) visit(d, [...trail, n]);
      state.set(n, 'done');
      out.push(n);
    };
    for (const n of this.requires.keys()) visit(n, []);
    return out;
  }

  /** Those of `pending` whose requirements are all in `done` (ready to create). */
  ready(pending: Iterable<string>, done: Set<string>): string[] {
    return [...pending].filter((n) => [...(this.requires.get(n) ?? [])].every((d) => done.has(d)));
  }

  /** Those of `pending` no pending resource requires any more (ready to delete). */
  readyToDelete(pending: Set<string>): string[] {
    return [...pending].filter((n) => ![...pending].some((o) => o !== n && this.requires.get(o)?.has(n)));
  }
}
