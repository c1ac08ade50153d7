/**
 * The records of a simulated storage service (Glance images, Cinder volumes,
 * ...) kept in memory and written to `<dir>/state.json` after each change, so
 * a simulator started on a persistent data directory finds its resources
 * again next time. Records are small; the bytes live in their own files.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class JsonState<T extends object> {
  readonly #file: string;
  readonly data: T;

  constructor(dir: string, empty: () => T) {
    mkdirSync(dir, { recursive: true });
    this.#file = join(dir, 'state.json');
    let loaded: T | undefined;
    if (existsSync(this.#file)) {
      try {
        loaded = { ...empty(), ...(JSON.parse(readFileSync(this.#file, 'utf8')) as T) };
      } catch {
        loaded = undefined;
      }
    }
    this.data = loaded ?? empty();
  }

  /** Writes the records (write then rename: a crash never leaves half a file). */
  save(): void {
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    renameSync(tmp, this.#file);
  }
}
