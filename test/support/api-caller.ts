/** Calls a running dragon-api with a token, and waits for executions: what the end-to-end tests share. */

/** An API body of whatever shape the test asserts. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions inspect arbitrary API bodies
export type Body = any;

export interface ApiCaller {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }>;
  /** Polls the execution until it ends; returns it (with its steps). */
  waitExecution(id: string, timeoutMs?: number): Promise<Body>;
}

export function apiCaller(url: string, token: string): ApiCaller {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const waitExecution = async (id: string, timeoutMs = 240_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call('GET', `/v1/executions/${id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(body.execution.status)) return body.execution;
      if (Date.now() > deadline) throw new Error(`execution ${id} still ${body.execution.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { call, waitExecution };
}
