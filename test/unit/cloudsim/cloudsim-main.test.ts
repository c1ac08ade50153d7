import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CloudsYaml, sessionOptionsFor } from '../../../services/cloudsim/clouds-yaml.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Spawns the command and resolves with its output lines once it prints `ready`. */
function startMain(args: string[]): Promise<{ child: ChildProcess; lines: string[]; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/cloudsim/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) resolve({ child, lines: out.trim().split('\n'), ms: Date.now() - started });
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`dragon-cloudsim exited ${code}: ${err}`)));
  });
}

describe('dragon-cloudsim', () => {
  it('starts both sites in under 2 seconds, writes a usable clouds.yaml and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudsim-main-'));
    const yamlPath = join(dir, 'clouds.yaml');
    const dataDir = join(dir, 'data');
    const { child, lines, ms } = await startMain(['--data-dir', dataDir, '--clouds-yaml', yamlPath]);
    expect(ms).toBeLessThan(2000);
    expect(lines.find((l) => l.startsWith('keystone '))).toMatch(/\/v3 \(RegionOne, RegionTwo\)$/);
    expect(
      lines.some((l) =>
        /^RegionOne object-store http:\/\/127\.0\.0\.1:\d+\/v1\/AUTH_%\(project_id\)s$/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('RegionTwo object-store '))).toBe(true);
    expect(statSync(yamlPath).mode & 0o077).toBe(0);

    const doc = parse(readFileSync(yamlPath, 'utf8')) as CloudsYaml;
    expect(Object.keys(doc.clouds).sort()).toEqual(['sim-admin', 'sim-backup', 'sim-primary']);
    expect(doc.clouds['sim-backup']).toMatchObject({ region_name: 'RegionTwo', identity_api_version: 3 });
    const primary = new KeystoneSession(sessionOptionsFor(doc.clouds['sim-primary']));
    const backup = new KeystoneSession(sessionOptionsFor(doc.clouds['sim-backup']));
    const admin = new KeystoneSession(sessionOptionsFor(doc.clouds['sim-admin']));
    try {
      const p = new SwiftClient(primary);
      const b = new SwiftClient(backup);
      await p.createContainer('from-yaml');
      await b.createContainer('at-backup');
      await b.putObject('at-backup', 'x', 'y');
      expect(await p.accountUrl()).not.toBe(await b.accountUrl());
      expect((await p.listContainers()).map((c) => c.name)).toEqual(['from-yaml']);
      expect((await b.listContainers()).map((c) => c.name)).toEqual(['at-backup']);
      expect((await admin.authenticate()).roles).toContain('admin');
    } finally {
      await Promise.all([primary.close(), backup.close(), admin.close()]);
    }
    // Data lives in the data directory given.
    expect(existsSync(join(dataDir, 'RegionOne', 'swift'))).toBe(true);

    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('runs two independent clouds with --two-clouds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudsim-main2-'));
    const yamlPath = join(dir, 'clouds.yaml');
    const { child, lines } = await startMain(['--two-clouds', '--clouds-yaml', yamlPath]);
    const keystones = lines.filter((l) => l.startsWith('keystone '));
    expect(keystones).toHaveLength(2);
    const doc = parse(readFileSync(yamlPath, 'utf8')) as CloudsYaml;
    expect(doc.clouds['sim-primary'].auth.auth_url).not.toBe(doc.clouds['sim-backup'].auth.auth_url);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
