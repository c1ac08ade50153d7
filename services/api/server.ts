/** Runs the app on a host and port; the lead's main.ts calls this. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { ApiDeps } from './deps.js';

export interface ApiServer {
  server: Server;
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  /** Stops accepting, ends idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

export function startApiServer(deps: ApiDeps, opts: { host: string; port: number }): Promise<ApiServer> {
  const app = createApp(deps);
  return new Promise((resolve, reject) => {
    const server = app.listen(opts.port, opts.host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${host}:${addr.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
