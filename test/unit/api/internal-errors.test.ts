import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../../services/api/app.js';
import { loadDragonConfig } from '../../../services/common/config/index.js';
import { configureLogging } from '../../../services/common/log.js';
import { fakeAuthenticate } from '../../support/fake-auth.js';
import { FakeEnforcer } from '../../support/fake-enforcer.js';
import { FakeTransport } from '../../support/fake-transport.js';

// A database that fails the way a lost connection does, without needing one.
const brokenDb = (() => {
  throw new Error('connect ECONNREFUSED postgresql://dragon:hunter2@db:5432/dragon');
}) as unknown as Knex;

const logged: string[] = [];
let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  configureLogging({
    destination: new Writable({
      write(chunk, _enc, cb) {
        logged.push(String(chunk));
        cb();
      },
    }),
  });
  const app = createApp({
    conf: loadDragonConfig({ defaultFile: null, env: {} }),
    db: brokenDb,
    transport: new FakeTransport(),
    authenticate: fakeAuthenticate(),
    enforcer: new FakeEnforcer(),
    version: 'test',
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await close?.();
});

it('answers an unexpected failure with a 500 error body that hides the internals', async () => {
  const res = await fetch(`${url}/v1/policies`, { headers: { 'X-Auth-Token': 'alice:p1:member' } });
  expect(res.status).toBe(500);
  const text = await res.text();
  expect(text).not.toContain('hunter2');
  expect(text).not.toContain('ECONNREFUSED');
  const body = JSON.parse(text);
  expect(body.error).toMatchObject({ code: 500, title: 'Internal Server Error' });
  expect(body.error.request_id).toBe(res.headers.get('x-openstack-request-id'));
  // The operator finds the cause by request id, without the password.
  const line = logged.find((l) => l.includes(body.error.request_id) && l.includes('unhandled error'));
  expect(line).toContain('ECONNREFUSED');
  expect(line).not.toContain('hunter2');
});

it('reports the database as down on the health check', async () => {
  const res = await fetch(`${url}/healthcheck`);
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ status: 'degraded' });
});
