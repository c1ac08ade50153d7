/**
 * The README's run command (`npm start`) on a fresh state directory: it
 * builds, starts api + engine + the cloud simulator, prints where the API
 * listens, answers there, and keeps its data across a restart.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/dragon-process.js';
import { json } from '../support/json.js';

function start(state: string) {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DRAGON_DEFAULT__STATE_PATH: state,
      DRAGON_API__BIND_PORT: '0',
      DRAGON_CLOUDSIM__KEYSTONE_PORT: '0',
      DRAGON_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 120 s:\n${out}`)), 120_000);
    child.stdout.on('data', () => {
      const m = out.match(/Dragon API listening on (http:\/\/[^\s]+)\/v1/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  return { url, stop, output: () => out };
}

async function demoToken(cloudsYaml: string): Promise<{ token: string; dragon: string }> {
  const cloud = parse(readFileSync(cloudsYaml, 'utf8')).clouds['sim-primary'];
  const r = await fetch(`${cloud.auth.auth_url}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: cloud.auth.username, domain: { name: 'Default' }, password: cloud.auth.password },
          },
        },
        scope: { project: { name: cloud.auth.project_name, domain: { name: 'Default' } } },
      },
    }),
  });
  expect(r.status).toBe(201);
  const body = await json(r);
  const dr = body.token.catalog.find((s: { type: string }) => s.type === 'disaster-recovery');
  return {
    token: r.headers.get('x-subject-token')!,
    dragon: dr.endpoints.find((e: { interface: string }) => e.interface === 'public').url,
  };
}

describe('the README run command', () => {
  it('starts Dragon with the simulator, answers on its port, and keeps data across a restart', async () => {
    const state = mkdtempSync(join(tmpdir(), 'dragon-state-'));
    const first = start(state);
    let policyId: string;
    try {
      const url = await first.url;
      const versions = await fetch(`${url}/`);
      expect((await json(versions)).versions[0]).toMatchObject({ id: 'v1.0', status: 'CURRENT' });
      expect(first.output()).toContain(join(state, 'clouds.yaml'));
      const { token, dragon } = await demoToken(join(state, 'clouds.yaml'));
      expect(dragon).toBe(`${url}/v1`);
      const created = await fetch(`${dragon}/policies`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ policy: { name: 'smoke' } }),
      });
      expect(created.status).toBe(201);
      policyId = (await json(created)).policy.id;
    } finally {
      await first.stop();
    }
    const second = start(state);
    try {
      await second.url;
      const { token, dragon } = await demoToken(join(state, 'clouds.yaml'));
      const list = await fetch(`${dragon}/policies`, { headers: { 'x-auth-token': token } });
      expect((await json(list)).policies.map((p: { id: string }) => p.id)).toEqual([policyId]);
    } finally {
      await second.stop();
    }
  }, 300_000);
});
