/**
 * Encryption at rest of the application-credential secrets of tenant sites:
 * AES-256-GCM with `[sites] secret_key`, a fresh 96-bit nonce per secret.
 * Stored as `v1:<nonce>:<tag>:<ciphertext>` (base64) so the format can change.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DragonError } from '../errors.js';

const VERSION = 'v1';

/** The 32-byte key from its base64 config value; a clear error when unset or malformed. */
export function siteSecretKey(value: string): Buffer {
  if (!value)
    throw new DragonError(
      503,
      'Registering sites of other clouds is not enabled here: [sites] secret_key is not configured.',
    );
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32)
    throw new DragonError(500, '[sites] secret_key must be the base64 encoding of 32 bytes.');
  return key;
}

export function encryptSecret(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, nonce, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

export function decryptSecret(key: Buffer, stored: string): string {
  const [version, nonce, tag, data] = stored.split(':');
  if (version !== VERSION || !nonce || !tag || data === undefined)
    throw new Error('stored site secret has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  // A wrong key fails the tag check here instead of yielding garbage.
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
}
