/**
 * Starts dragon-api on a free port over an embedded PGlite database with the
 * fake auth, enforcer and transport, and offers a small fetch wrapper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startApiServer } from '../../services/api/server.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { type Database, openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { configureLogging } from '../../services/common/log.js';
import { fakeAuthenticate } from './fake-auth.js';
import { FakeEnforcer } from './fake-enforcer.js';
import { FakeTransport } from './fake-transport.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are whatever the test asserts them to be
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding), with the content type given in headers. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestApi {
  url: string;
  db: Database;
  transport: FakeTransport;
  enforcer: FakeEnforcer;
  /** Every log line written while the API ran, parsed. */
  logs: Record<string, unknown>[];
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const logs: Record<string, unknown>[] = [];
  configureLogging({
    destination: new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        cb();
      },
    }),
  });
  const statePath = mkdtempSync(join(tmpdir(), 'dragon-api-test-'));
  const db = openDatabase({ connection: '', statePath, maxPoolSize: 1 });
  await syncSchema(db);
  const conf = loadDragonConfig({ defaultFile: null, env });
  const transport = new FakeTransport();
  const enforcer = new FakeEnforcer();
  const api = await startApiServer(
    { conf, db, transport, enforcer, authenticate: fakeAuthenticate(), version: '0.1.0-test' },
    { host: '127.0.0.1', port: 0 },
  );
  return {
    url: api.url,
    db,
    transport,
    enforcer,
    logs,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers['X-Auth-Token'] = opts.token;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const res = await fetch(path.startsWith('http') ? path : `${api.url}${path}`, {
        method,
        headers,
        body,
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await api.close();
      await db.destroy();
      rmSync(statePath, { recursive: true, force: true });
    },
  };
}
