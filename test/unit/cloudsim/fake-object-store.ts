/**
 * A tiny in-test stand-in for the Swift simulator's in-process contract
 * (ObjectStoreApi), backed by a directory. Given the same `root` in both
 * regions it models one Swift both sites can read (the backup site's Swift
 * as the bank), which is what export/import of backup records relies on.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { ObjectStoreApi } from '../../../services/cloudsim/contracts.js';
import type { SiteContext } from '../../../services/cloudsim/site.js';

export function fakeObjectStore(sharedRoot?: string) {
  return (site: SiteContext): ObjectStoreApi => {
    const root = sharedRoot ?? join(site.dataDir, 'fake-swift');
    const dir = (account: string, container: string) => join(root, account, container);
    const file = (account: string, container: string, name: string) =>
      join(dir(account, container), encodeURIComponent(name));
    return {
      type: 'object-store',
      name: 'swift',
      router: express.Router(),
      catalogUrl: (base: string) => `${base}/v1/AUTH_%(project_id)s`,
      ensureContainer(account, container) {
        mkdirSync(dir(account, container), { recursive: true });
      },
      async putObject(account, container, name, data) {
        if (!existsSync(dir(account, container))) throw new Error(`container ${container} not found`);
        const md5 = createHash('md5');
        let size = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _e, cb) {
            md5.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
        await pipeline(source, tap, createWriteStream(file(account, container, name)));
        return { etag: md5.digest('hex'), size };
      },
      getObject(account, container, name) {
        const f = file(account, container, name);
        return existsSync(f) ? createReadStream(f) : undefined;
      },
      deleteObject(account, container, name) {
        const f = file(account, container, name);
        if (!existsSync(f)) return false;
        rmSync(f);
        return true;
      },
      listObjects(account, container, prefix = '') {
        const d = dir(account, container);
        if (!existsSync(d)) return [];
        return readdirSync(d)
          .map((n) => decodeURIComponent(n))
          .filter((n) => n.startsWith(prefix))
          .sort();
      },
    };
  };
}
