/**
 * Nova's key pairs (os-keypairs), per user: create (generated RSA key, the
 * private key returned once), import, show, list, delete.
 */
import type { Router } from 'express';
import { generateSshKey, importedFingerprint } from './nova-keys.js';
import { atLeast } from './nova-microversion.js';
import { isoNow, NovaFault } from './nova-servers.js';
import { callerOf, type SimCaller } from './sim-auth.js';

interface SimKeypair {
  id: number;
  name: string;
  userId: string;
  publicKey: string;
  fingerprint: string;
  type: string;
  created: string;
}

/** Mounts the routes; returns whether a user has a key pair of that name (for server create). */
export function keypairRoutes(api: Router): (userId: string, name: string) => boolean {
  const keypairs = new Map<string, SimKeypair>();
  let keypairCounter = 0;
  const keyOf = (userId: string, name: string) => `${userId}/${name}`;
  const findKeypair = (c: SimCaller, name: string): SimKeypair => {
    const k = keypairs.get(keyOf(c.userId, name));
    if (!k) throw new NovaFault(404, `Keypair ${name} not found for user ${c.userId}`);
    return k;
  };
  api.get('/os-keypairs', (_req, res) => {
    const c = callerOf(res);
    const mine = [...keypairs.values()].filter((k) => k.userId === c.userId);
    res.json({
      keypairs: mine.map((k) => ({
        keypair: {
          name: k.name,
          public_key: k.publicKey,
          fingerprint: k.fingerprint,
          ...(atLeast(res, 2) ? { type: k.type } : {}),
        },
      })),
    });
  });
  api.post('/os-keypairs', (req, res) => {
    const c = callerOf(res);
    const b = (req.body as { keypair?: Record<string, unknown> })?.keypair;
    if (!b || typeof b.name !== 'string' || !/^[\w .@-]{1,255}$/.test(b.name))
      throw new NovaFault(
        400,
        "Invalid input for field/attribute keypair. Value: name. 'name' is a required property",
      );
    if (keypairs.has(keyOf(c.userId, b.name)))
      throw new NovaFault(409, `Key pair '${b.name}' already exists.`);
    const type = typeof b.type === 'string' ? b.type : 'ssh';
    let publicKey: string;
    let fp: string;
    let privateKey: string | undefined;
    if (typeof b.public_key === 'string') {
      const f = importedFingerprint(b.public_key);
      if (!f) throw new NovaFault(400, 'Keypair data is invalid: failed to generate fingerprint');
      publicKey = b.public_key.trim();
      fp = f;
    } else {
      if (atLeast(res, 92)) throw new NovaFault(400, "'public_key' is a required property");
      const g = generateSshKey(`Generated-by-Nova`);
      publicKey = g.publicKey;
      privateKey = g.privateKey;
      fp = g.fingerprint;
    }
    const k: SimKeypair = {
      id: ++keypairCounter,
      name: b.name,
      userId: c.userId,
      publicKey,
      fingerprint: fp,
      type,
      created: isoNow(),
    };
    keypairs.set(keyOf(c.userId, b.name), k);
    const view: Record<string, unknown> = {
      name: k.name,
      public_key: k.publicKey,
      fingerprint: k.fingerprint,
      user_id: k.userId,
    };
    if (privateKey) view.private_key = privateKey;
    if (atLeast(res, 2)) view.type = k.type;
    res.status(atLeast(res, 2) ? 201 : 200).json({ keypair: view });
  });
  api.get('/os-keypairs/:name', (req, res) => {
    const k = findKeypair(callerOf(res), req.params.name as string);
    res.json({
      keypair: {
        id: k.id,
        name: k.name,
        public_key: k.publicKey,
        fingerprint: k.fingerprint,
        user_id: k.userId,
        created_at: k.created,
        updated_at: null,
        deleted: false,
        deleted_at: null,
        ...(atLeast(res, 2) ? { type: k.type } : {}),
      },
    });
  });
  api.delete('/os-keypairs/:name', (req, res) => {
    const c = callerOf(res);
    findKeypair(c, req.params.name as string);
    keypairs.delete(keyOf(c.userId, req.params.name as string));
    res.status(atLeast(res, 2) ? 204 : 202).end();
  });
  return (userId, name) => keypairs.has(keyOf(userId, name));
}
