/** Reads a fetch response body as JSON of whatever shape the test asserts. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions inspect arbitrary API bodies
export async function json(r: Response): Promise<any> {
  return r.json();
}
