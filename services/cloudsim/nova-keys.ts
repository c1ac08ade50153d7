/**
 * SSH key pairs the way Nova makes them: a generated RSA key (the private key
 * is returned once, PEM "RSA PRIVATE KEY" like Nova's) or an imported OpenSSH
 * public key, with the MD5 colon fingerprint Nova shows.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function mpint(b: Buffer): Buffer {
  return sshString(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function fingerprint(blob: Buffer): string {
  return createHash('md5')
    .update(blob)
    .digest('hex')
    .replace(/(..)(?!$)/g, '$1:');
}

export function generateSshKey(comment: string): {
  publicKey: string;
  privateKey: string;
  fingerprint: string;
} {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(String(jwk.e), 'base64url')),
    mpint(Buffer.from(String(jwk.n), 'base64url')),
  ]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`,
    privateKey: String(privateKey.export({ type: 'pkcs1', format: 'pem' })),
    fingerprint: fingerprint(blob),
  };
}

/** Fingerprint of an imported OpenSSH public key line, or undefined when it is not one. */
export function importedFingerprint(publicKey: string): string | undefined {
  const m = /^(ssh-rsa|ssh-ed25519|ssh-dss|ecdsa-sha2-nistp(?:256|384|521))\s+([A-Za-z0-9+/=]+)(\s.*)?$/.exec(
    publicKey.trim(),
  );
  if (!m) return undefined;
  const blob = Buffer.from(m[2], 'base64');
  // The blob starts with the key type again; a mismatch means the line was made up.
  if (
    blob.length < 8 ||
    blob.readUInt32BE(0) !== m[1].length ||
    blob.subarray(4, 4 + m[1].length).toString() !== m[1]
  )
    return undefined;
  return fingerprint(blob);
}
