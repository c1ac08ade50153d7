import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../services/cli/main.js';
import { type CliWorld, startCliWorld } from '../../support/cli-harness.js';

let w: CliWorld;
beforeAll(async () => {
  w = await startCliWorld();
});
afterAll(() => w.close());
beforeEach(() => {
  w.regionOne.executions.clear();
  w.regionOne.policies.clear();
  w.regionOne.scripts.clear();
});

const step = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
  id: `step-${name}`,
  name,
  resource_id: `${name}-id`,
  resource_type: 'OS::Nova::Server',
  action: 'server-image-copy',
  depends_on: [],
  status,
  progress: status === 'succeeded' ? 100 : 0,
  error: null,
  result: null,
  attempts: 1,
  started_at: null,
  finished_at: null,
  ...extra,
});

describe('dragon execution', () => {
  it('lists executions, filtered by policy name', async () => {
    const p = w.regionOne.addPolicy({ name: 'web' });
    const mine = w.regionOne.addExecution({ policy_id: p.id, status: 'succeeded', progress: 100 });
    w.regionOne.addExecution({ policy_id: 'someone-else', status: 'running' });
    const all = await w.run(['execution', 'list', '-f', 'value', '-c', 'ID']);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    const filtered = await w.run(['execution', 'list', '--policy', 'web', '-f', 'json']);
    expect(JSON.parse(filtered.stdout)).toEqual([
      {
        ID: mine.id,
        Kind: 'protect',
        Status: 'succeeded',
        Progress: 100,
        'Policy ID': p.id,
        'Created At': mine.created_at,
      },
    ]);
  });

  it('shows the execution and then a table of its steps', async () => {
    const e = w.regionOne.addExecution({
      status: 'failed',
      error: 'one step failed',
      steps: [step('vol', 'succeeded'), step('srv', 'failed', { error: 'quota exceeded' })],
    });
    const r = await w.run(['execution', 'show', e.id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| Status +\| failed +\|/);
    expect(r.stdout).toMatch(/\| Error +\| one step failed +\|/);
    const stepsHeader = r.stdout.split('\n').find((l) => l.includes('Resource Type'));
    expect(stepsHeader?.split('|').map((s) => s.trim())).toEqual([
      '',
      'Name',
      'Resource ID',
      'Resource Type',
      'Action',
      'Status',
      'Progress',
      'Attempts',
      'Error',
      '',
    ]);
    expect(r.stdout).toMatch(
      /\| srv +\| srv-id +\| OS::Nova::Server +\| server-image-copy +\| failed +\| 0 +\| 1 +\| quota exceeded +\|/,
    );

    const asJson = await w.run(['execution', 'show', e.id, '-f', 'json']);
    const obj = JSON.parse(asJson.stdout);
    expect(obj.Status).toBe('failed');
    expect(obj.Steps.map((s: { Name: string; Status: string }) => [s.Name, s.Status])).toEqual([
      ['vol', 'succeeded'],
      ['srv', 'failed'],
    ]);
  });

  it('reports an unknown execution with the API message', async () => {
    const r = await w.run(['execution', 'show', 'no-such']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Execution no-such could not be found\. \(HTTP 404\) \(Request-ID: req-/);
  });

  it('cancels without waiting', async () => {
    const e = w.regionOne.addExecution({ status: 'running' });
    const r = await w.run(['execution', 'cancel', e.id]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(w.regionOne.executions.get(e.id)?.status).toBe('cancelling');
  });

  it('cancel --wait prints progress on stderr until the execution is cancelled', async () => {
    const e = w.regionOne.addExecution({
      status: 'running',
      progress: 40,
      steps: [step('a', 'succeeded'), step('b', 'running')],
    });
    w.regionOne.scripts.set(e.id, [
      { status: 'cancelling' },
      { status: 'cancelling' },
      { status: 'cancelled', steps: [step('a', 'succeeded'), step('b', 'cancelled')] },
    ]);
    const r = await w.run(['execution', 'cancel', e.id, '--wait']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `Execution ${e.id}: cancelling 40% (1/2 steps done)`,
      `Execution ${e.id}: cancelled 40% (2/2 steps done)`,
    ]);
  });

  it('cancel --wait exits 1 when the execution ends failed', async () => {
    const e = w.regionOne.addExecution({ status: 'running', steps: [step('a', 'running')] });
    w.regionOne.scripts.set(e.id, [
      { progress: 50 },
      { status: 'failed', error: 'volume snapshot timed out', steps: [step('a', 'failed')] },
    ]);
    const r = await w.run(['execution', 'cancel', e.id, '--wait']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`Execution ${e.id}: cancelling 50% (0/1 steps done)`);
    expect(lines.at(-1)).toBe(`Execution ${e.id} failed: volume snapshot timed out`);
  });

  it('refuses to cancel a finished execution with the API error', async () => {
    const e = w.regionOne.addExecution({ status: 'succeeded' });
    const r = await w.run(['execution', 'cancel', e.id, '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has already finished\. \(HTTP 409\) \(Request-ID: req-/);
  });
});

describe('dragon action and service', () => {
  it('lists and shows actions', async () => {
    const list = await w.run(['action', 'list', '-f', 'value', '-c', 'Name', '-c', 'Resource Type']);
    expect(list.stdout).toBe('server-image-copy OS::Nova::Server\nvolume-snapshot OS::Cinder::Volume\n');
    const filtered = await w.run([
      'action',
      'list',
      '--resource-type',
      'OS::Cinder::Volume',
      '-f',
      'value',
      '-c',
      'Name',
    ]);
    expect(filtered.stdout).toBe('volume-snapshot\n');
    const show = await w.run(['action', 'show', 'server-image-copy', '-f', 'json']);
    expect(JSON.parse(show.stdout)['Options Schema']).toEqual({
      type: 'object',
      properties: { copy_data: { type: 'string' } },
    });
    const table = await w.run(['action', 'show', 'server-image-copy']);
    expect(table.stdout).toMatch(/\| Options Schema +\| \{ +\|/);
    const missing = await w.run(['action', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Action nope could not be found\. \(HTTP 404\)/);
  });

  it('lists services', async () => {
    w.regionOne.services.push({
      id: 'svc-1',
      host: 'engine-1',
      binary: 'dragon-engine',
      version: '0.1.0',
      state: 'up',
      plugins: ['server-image-copy'],
      last_heartbeat_at: '2026-11-26T10:00:00Z',
      created_at: '2026-11-26T09:00:00Z',
    });
    const r = await w.run(['service', 'list', '--long', '-f', 'csv']);
    expect(r.stdout).toBe(
      '"ID","Host","Binary","Version","State","Last Heartbeat At","Plugins","Created At"\n' +
        '"svc-1","engine-1","dragon-engine","0.1.0","up","2026-11-26T10:00:00Z","server-image-copy","2026-11-26T09:00:00Z"\n',
    );
  });
});

describe('help', () => {
  const commands = [
    [],
    ['policy'],
    ['policy', 'list'],
    ['policy', 'show'],
    ['policy', 'create'],
    ['policy', 'set'],
    ['policy', 'unset'],
    ['policy', 'delete'],
    ['policy', 'resource'],
    ['policy', 'resource', 'add'],
    ['policy', 'resource', 'set'],
    ['policy', 'resource', 'remove'],
    ['policy', 'resource', 'list'],
    ['action', 'list'],
    ['action', 'show'],
    ['execution', 'list'],
    ['execution', 'show'],
    ['execution', 'cancel'],
    ['service', 'list'],
  ];
  it.each(commands.map((c) => [c.join(' ') || 'dragon', c]))(
    '%s --help prints usage and exits 0',
    async (_n, c) => {
      let out = '';
      const code = await runCli([...(c as string[]), '--help'], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: () => {} },
        env: {},
        cwd: w.cwd,
        home: w.home,
      });
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`^Usage: dragon ${(c as string[]).join(' ')}`.trimEnd()));
    },
  );

  it('an unknown command is a usage error', async () => {
    const r = await w.run(['policy', 'frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
