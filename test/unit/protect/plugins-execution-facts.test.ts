import { describe, expect, it } from 'vitest';
import { oncePerExecution } from '../../../plugins/_common/util.js';

describe('oncePerExecution: a site fact asked once by the steps of one execution', () => {
  it('asks once for all steps of an execution, again for another execution, and again after a failure', async () => {
    let asked = 0;
    const volumeTypes = () => {
      asked++;
      return new Promise<string[]>((r) => setTimeout(() => r(['replicated']), 10));
    };
    const steps = Array.from({ length: 20 }, () =>
      oncePerExecution({ executionId: 'exec-a' }, 'types', volumeTypes),
    );
    expect(await Promise.all(steps)).toEqual(Array(20).fill(['replicated']));
    expect(asked).toBe(1);

    await oncePerExecution({ executionId: 'exec-b' }, 'types', volumeTypes);
    expect(asked).toBe(2);

    let failures = 0;
    const flaky = async () => {
      if (failures++ === 0) throw new Error('503');
      return ['replicated'];
    };
    await expect(oncePerExecution({ executionId: 'exec-c' }, 'types', flaky)).rejects.toThrow('503');
    expect(await oncePerExecution({ executionId: 'exec-c' }, 'types', flaky)).toEqual(['replicated']);
  });
});
