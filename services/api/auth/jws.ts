/**
 * Offline checks of Keystone JWS tokens against the public keys Keystone
 * signs with. A forged or expired JWS token is refused here, before any
 * round trip to Keystone, so a flood of bad tokens cannot load Keystone.
 * Roles are not in a JWS token; they still come from online validation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, decodeProtectedHeader, errors, importSPKI, jwtVerify } from 'jose';

export const KEYSTONE_JWS_ALG = 'ES256';

export type JwsVerdict = 'valid' | 'bad_signature' | 'expired' | 'not_jws';

/** A compact JWS (three base64url parts) whose header names an algorithm. */
export function looksLikeJws(token: string): boolean {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === 'string';
  } catch {
    return false;
  }
}

/** How long a failed verification waits before re-reading the key directory (a rotated-in key). */
const RELOAD_AFTER_MS = 30_000;

export class JwsVerifier {
  #keys: CryptoKey[] = [];
  #loadedAt = 0;

  constructor(
    readonly repository: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async #load(): Promise<void> {
    const files = readdirSync(this.repository)
      .filter((f) => f.endsWith('.pem'))
      .sort();
    const keys: CryptoKey[] = [];
    for (const f of files) {
      keys.push(await importSPKI(readFileSync(join(this.repository, f), 'utf8'), KEYSTONE_JWS_ALG));
    }
    this.#keys = keys;
    this.#loadedAt = this.clock();
  }

  /** Checks the token against every public key in the repository. */
  async verify(token: string): Promise<JwsVerdict> {
    if (!looksLikeJws(token)) return 'not_jws';
    if (decodeProtectedHeader(token).alg !== KEYSTONE_JWS_ALG) return 'bad_signature';
    if (this.#loadedAt === 0) await this.#load();
    let verdict = await this.#tryKeys(token);
    if (verdict === 'bad_signature' && this.clock() - this.#loadedAt > RELOAD_AFTER_MS) {
      await this.#load();
      verdict = await this.#tryKeys(token);
    }
    return verdict;
  }

  async #tryKeys(token: string): Promise<JwsVerdict> {
    for (const key of this.#keys) {
      try {
        await jwtVerify(token, key, {
          algorithms: [KEYSTONE_JWS_ALG],
          currentDate: new Date(this.clock()),
          requiredClaims: ['exp', 'sub'],
        });
        return 'valid';
      } catch (err) {
        // jose checks the signature before the claims, so "expired" means a genuine token.
        if (err instanceof errors.JWTExpired) return 'expired';
      }
    }
    return 'bad_signature';
  }
}
