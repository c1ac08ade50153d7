#!/usr/bin/env node
// tsc compiles plugins/<name>/index.ts to dist/plugins/<name>/index.js but
// leaves manifest.json behind; the plugin loader needs it beside the entry.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'plugins');
const dest = join(root, 'dist', 'plugins');
let copied = 0;
for (const name of readdirSync(src, { withFileTypes: true })) {
  const manifest = join(src, name.name, 'manifest.json');
  if (!name.isDirectory() || !existsSync(manifest)) continue;
  mkdirSync(join(dest, name.name), { recursive: true });
  copyFileSync(manifest, join(dest, name.name, 'manifest.json'));
  copied++;
}
console.log(`copied ${copied} plugin manifests to ${dest}`);
