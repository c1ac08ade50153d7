import { InProcessTransport } from './inprocess.js';
import { RabbitTransport } from './rabbit.js';
import type { Transport } from './types.js';

export interface TransportSettings {
  transportUrl: string;
  prefetch: number;
  reconnectMaxDelaySeconds: number;
}

/** Empty transport_url → the in-process bus (embedded default); else RabbitMQ, connected before returning. */
export async function createTransport(
  settings: TransportSettings,
  shared?: InProcessTransport,
): Promise<Transport> {
  if (!settings.transportUrl) return shared ?? new InProcessTransport();
  const t = new RabbitTransport({
    url: settings.transportUrl,
    prefetch: settings.prefetch,
    reconnectMaxDelayMs: settings.reconnectMaxDelaySeconds * 1000,
  });
  await t.connect();
  return t;
}

export { InProcessTransport } from './inprocess.js';
export { RabbitTransport, RpcUnavailableError, toAmqpUrl } from './rabbit.js';
export * from './types.js';
