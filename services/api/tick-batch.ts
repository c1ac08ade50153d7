/**
 * Coalesces lookups of one key asked for during the same turn of the event
 * loop into a single call, made once that turn's I/O has been handled
 * (setImmediate). Under load, the requests read from several sockets in one
 * turn then share one database round trip instead of one each.
 *
 * Never stale: a caller only joins a call that has not been made yet, so
 * every caller's answer comes from a call that started after the caller
 * asked — a write committed before a request arrived is always seen.
 */
export class TickBatch<K, V> {
  readonly #waiting = new Map<K, Promise<V>>();

  constructor(private readonly call: (key: K) => Promise<V>) {}

  get(key: K): Promise<V> {
    let answer = this.#waiting.get(key);
    if (!answer) {
      answer = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        // Later callers start a new batch: this call is being made now.
        this.#waiting.delete(key);
        return this.call(key);
      });
      this.#waiting.set(key, answer);
    }
    return answer;
  }
}
