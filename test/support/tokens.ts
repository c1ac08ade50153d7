/** Keystone password tokens for tests and benchmarks (the simulator's Keystone or the stand-in). */
import type { RunningCloud } from '../../services/cloudsim/cloud.js';

export async function passwordToken(
  keystoneUrl: string,
  user: string,
  password: string,
  project: { name: string } | { id: string },
): Promise<string> {
  const r = await fetch(`${keystoneUrl}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { id: 'default' }, password } },
        },
        scope: {
          project: 'id' in project ? { id: project.id } : { name: project.name, domain: { id: 'default' } },
        },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`token for ${user}: ${r.status} ${await r.text()}`);
  return r.headers.get('x-subject-token')!;
}

/** The simulator's demo member (project demo). */
export function demoToken(cloud: RunningCloud): Promise<string> {
  return passwordToken(cloud.keystone.url, 'demo', 'DEMO_PASS', { name: 'demo' });
}
