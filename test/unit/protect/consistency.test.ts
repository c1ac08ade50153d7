import { describe, expect, it } from 'vitest';
import { bytesText, formatBytes, progressLine } from '../../../services/cli/wait.js';
import { protectSteps } from '../../../services/common/objects/checkpoints.js';
import { bankReadAcl } from '../../../services/engine/protect/kinds.js';

describe('the --wait progress line', () => {
  const base = { status: 'running', progress: 40, stepsDone: 2, stepsTotal: 5 };

  it('shows the bytes copied when the engine reports them', () => {
    const line = progressLine('e1', { ...base, bytesDone: 12 * 1024 * 1024, bytesTotal: 40 * 1024 * 1024 });
    expect(line).toBe('Execution e1: running 40% (2/5 steps done, 12.0 MiB of 40.0 MiB)');
  });

  it('shows only the steps while no step reports bytes, and bytes done without a known total', () => {
    expect(progressLine('e1', base)).toBe('Execution e1: running 40% (2/5 steps done)');
    expect(bytesText({ bytesDone: 1536 })).toBe('1.5 KiB');
    expect(formatBytes(0)).toBe('0 B');
  });
});

describe('protect graph with consistency paused', () => {
  const resources = [
    {
      resource_id: 's1',
      resource_type: 'OS::Nova::Server',
      action: 'image-copy',
      options: {},
      resource_name: null,
    },
    {
      resource_id: 'v1',
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-snapshot',
      options: {},
      resource_name: null,
    },
  ];

  it('starts with the pause step that every resource step waits for', () => {
    const steps = protectSteps(resources, 'paused');
    expect(steps[0]).toMatchObject({ name: 'zz-pause', action: 'dragon-pause', depends_on: [] });
    for (const s of steps.filter((x) => x.resource_id)) expect(s.depends_on).toContain('zz-pause');
  });

  it('runs the template beside the resource steps and writes the manifest after every step', () => {
    const steps = protectSteps(resources);
    const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
    expect(byName['zz-template'].depends_on).toEqual([]);
    expect([...(byName['zz-manifest'].depends_on ?? [])].sort()).toEqual(
      steps
        .filter((s) => s.name !== 'zz-manifest')
        .map((s) => s.name)
        .sort(),
    );
    // Volumes before the servers that may use them.
    const server = steps.find((s) => s.resource_type === 'OS::Nova::Server');
    if (server) expect(server.depends_on).toContain('volume-v1');
  });

  it('has no pause step without consistency', () => {
    expect(protectSteps(resources).map((s) => s.action)).not.toContain('dragon-pause');
  });
});

describe('bank readers as a Swift read ACL', () => {
  it('grants every user of each project, and nothing when there are none', () => {
    expect(bankReadAcl(['p1', 'AUTH_p2'])).toBe('p1:*,p2:*');
    expect(bankReadAcl([])).toBeUndefined();
    expect(bankReadAcl(undefined)).toBeUndefined();
  });
});
