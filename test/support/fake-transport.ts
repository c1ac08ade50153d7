/**
 * An in-memory Transport for API tests: records every cast and call so a
 * test can assert what the API told the engines. Not a bus: nothing is
 * delivered.
 */
import type { RequestContext } from '../../services/common/context.js';
import type { Endpoints, RpcServerHandle, Target, Transport } from '../../services/common/rpc/types.js';

export interface RecordedMessage {
  target: Target;
  method: string;
  args: Record<string, unknown>;
  ctx: RequestContext;
}

export class FakeTransport implements Transport {
  readonly casts: RecordedMessage[] = [];
  readonly calls: RecordedMessage[] = [];
  /** When set, cast() rejects with it (a broker outage). */
  castError: Error | undefined;
  state: 'ok' | 'down' = 'ok';

  async cast(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<void> {
    if (this.castError) throw this.castError;
    this.casts.push({ target, method, args, ctx });
  }

  async call<T = unknown>(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<T> {
    this.calls.push({ target, method, args, ctx });
    return undefined as T;
  }

  async listen(_topic: string, _server: string, _endpoints: Endpoints): Promise<RpcServerHandle> {
    return { stop: async () => {} };
  }

  readonly notifications: Array<{ eventType: string; payload: Record<string, unknown>; priority?: string }> =
    [];

  async notify(eventType: string, payload: Record<string, unknown>, _ctx: RequestContext, priority?: string) {
    this.notifications.push({ eventType, payload, priority });
  }

  status(): 'ok' | 'down' {
    return this.state;
  }

  async close(): Promise<void> {}
}
