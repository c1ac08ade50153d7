/**
 * The JWS key repository of the simulated Keystone, laid out like
 * `keystone-manage create_jws_keypair` output moved into place:
 * `<dir>/private/private.pem` (PKCS#8) and `<dir>/public/*.pem` (SPKI).
 * Keystone verifies against every public key in the repository so keys can be
 * rotated; the simulator does the same.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, importPKCS8, importSPKI } from 'jose';

export const JWS_ALG = 'ES256';

export interface JwsKeys {
  privateKey: CryptoKey;
  publicKeys: CryptoKey[];
}

/** Writes a P-256 key pair into `dir` unless one is there already; returns the public key file path. */
export function ensureJwsKeyPair(dir: string): { privatePem: string; publicPem: string } {
  const privatePem = join(dir, 'private', 'private.pem');
  const publicPem = join(dir, 'public', 'public.pem');
  if (!existsSync(privatePem)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    mkdirSync(join(dir, 'private'), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'public'), { recursive: true });
    writeFileSync(privatePem, privateKey, { mode: 0o600 });
    writeFileSync(publicPem, publicKey);
  }
  return { privatePem, publicPem };
}

/** Every `*.pem` of a public key directory, imported for ES256 verification. */
export async function loadPublicKeys(publicDir: string): Promise<CryptoKey[]> {
  if (!existsSync(publicDir)) return [];
  const files = readdirSync(publicDir)
    .filter((f) => f.endsWith('.pem'))
    .sort();
  return Promise.all(files.map((f) => importSPKI(readFileSync(join(publicDir, f), 'utf8'), JWS_ALG)));
}

export async function loadJwsKeys(dir: string): Promise<JwsKeys> {
  const { privatePem } = ensureJwsKeyPair(dir);
  const privateKey = await importPKCS8(readFileSync(privatePem, 'utf8'), JWS_ALG);
  return { privateKey, publicKeys: await loadPublicKeys(join(dir, 'public')) };
}
