/**
 * `npm run demo` as part of the tests: the quickstart walkthrough
 * (docs/quickstart.md) run by test/demo/run-demo.ts against a fresh
 * all-in-one Dragon with the simulator, from the sources, with the real
 * `dragon`, `dragon-cloudsim` and `openstack` commands. A failing step fails
 * this test with the demo's own report of which step and why.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/dragon-process.js';

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/demo/run-demo.ts', '--from-source', '--require-openstack'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', () => {
  it('walks through protect, a disaster, recovery at the backup site and a drill, every step checked', async () => {
    const { code, output } = await runDemo();
    const failure = output.slice(output.indexOf('DEMO FAILED'));
    expect(code, output.includes('DEMO FAILED') ? failure : output.slice(-6000)).toBe(0);
    expect(output).toMatch(/^demo: all \d+ steps passed/m);
  }, 900_000);
});
