import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackConnectionError } from '../../../services/common/openstack/errors.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';

/** A private CA and a server certificate for 127.0.0.1, made with the openssl CLI when present. */
function makePki(dir: string): boolean {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=dragon-test-ca',
    );
    ssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'srv.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'srv.pem',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'dragon-pki-'));
const havePki = makePki(dir);
let server: Server;
let url: string;

describe.skipIf(!havePki)('KeystoneSession over TLS with a private CA', () => {
  beforeAll(async () => {
    server = createServer(
      { key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) },
      (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end('{"ok":true}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const session = (cafile?: string) =>
    new KeystoneSession({
      authUrl: url,
      auth: { type: 'token', token: 'unused' },
      cafile,
      retries: 0,
    });

  it('trusts the server when given the CA bundle', async () => {
    const s = session(join(dir, 'ca.pem'));
    const res = await s.requestJson<{ ok: boolean }>('GET', url, { authenticated: false });
    expect(res.ok).toBe(true);
    await s.close();
  });

  it('refuses the server without it', async () => {
    const s = session();
    const err = await s.request('GET', url, { authenticated: false }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackConnectionError);
    await s.close();
  });
});
