/**
 * Starting and stopping a simulated service on 127.0.0.1. Tracks sockets so
 * close() does not wait for idle keep-alive connections of test clients.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function listen(app: Express, port = 0, host = '127.0.0.1'): Promise<Listening> {
  const server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
