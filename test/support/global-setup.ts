/**
 * vitest globalSetup: starts the private PostgreSQL and RabbitMQ servers once
 * per run and hands their addresses to the test files through environment
 * variables (the forked test workers inherit process.env).
 *
 * It also points TMPDIR at a directory of this run and removes it at the end:
 * simulator data, bank copies and volume files that tests make under
 * os.tmpdir() can reach gigabytes, and a CI machine's disk may be small.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServices } from './services.js';

const log = (line: string) => process.stderr.write(`[test services] ${line}\n`);

export default async function setup(): Promise<() => Promise<void>> {
  const runTmp = mkdtempSync(join(tmpdir(), 'dragon-test-run-'));
  // Traversable by other users: a private PostgreSQL a test starts runs as `postgres`.
  chmodSync(runTmp, 0o711);
  const services = await startTestServices(log);
  Object.assign(process.env, services.env, { TMPDIR: runTmp });
  return async () => {
    await services.stop();
    rmSync(runTmp, { recursive: true, force: true });
  };
}
