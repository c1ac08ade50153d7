/**
 * Refuses to run the real-cloud suites without the mini cloud: every service's API must
 * answer, or the run fails with which one is down and the command to bring it up. A
 * missing cloud is a failure, never a skip.
 */
import { existsSync } from 'node:fs';
import { MINICLOUD_UP } from '../support/cloud-target.js';

const APIS: Record<string, string> = {
  keystone: 'http://127.0.0.1:5000/v3',
  'keystone (fernet)': 'http://127.0.0.1:5001/v3',
  swift: 'http://127.0.0.1:8080/healthcheck',
  glance: 'http://127.0.0.1:9292/',
  cinder: 'http://127.0.0.1:8776/',
  placement: 'http://127.0.0.1:8778/',
  neutron: 'http://127.0.0.1:9696/',
  nova: 'http://127.0.0.1:8774/',
  heat: 'http://127.0.0.1:8004/',
  dragon: 'http://127.0.0.1:8007/',
};

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<void> {
  const clouds = process.env.DRAGON_REALCLOUD_CLOUDS_YAML ?? '/var/tmp/dragon-minicloud/clouds.yaml';
  process.env.DRAGON_REALCLOUD_CLOUDS_YAML = clouds;
  process.env.DRAGON_CLOUD_TARGET = 'real';
  if (!existsSync(clouds)) {
    throw new Error(`the mini cloud is not up (no ${clouds}). Bring it up with: ${MINICLOUD_UP}`);
  }
  const down = (
    await Promise.all(
      Object.entries(APIS).map(async ([name, url]) => ((await answers(url)) ? null : `${name} (${url})`)),
    )
  ).filter((x): x is string => x !== null);
  if (down.length > 0) {
    throw new Error(
      `the mini cloud is not up: ${down.join(', ')} do not answer. Bring it up with: ${MINICLOUD_UP}`,
    );
  }
}
