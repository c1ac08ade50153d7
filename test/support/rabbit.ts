/**
 * The private RabbitMQ node started by the global setup, as test files see it.
 *
 * Beware: rabbitmqStopApp() stops the broker that EVERY test file running at
 * the same time shares. A test that restarts the broker should start a node
 * of its own with startRabbitmqNode() (about 4 s) and restart that one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RabbitmqControl } from './rabbitmqctl.js';
import { startRabbitmq } from './services.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests through vitest with test/support/global-setup.ts (npm test)`,
    );
  }
  return value;
}

/** A RabbitMQ node the tests may talk to and control. */
export class TestRabbitmq {
  constructor(
    readonly control: RabbitmqControl,
    private readonly baseUrl: string,
  ) {}

  /** amqp:// URL of the node, for the default vhost or the given one. */
  url(vhost = '/'): string {
    const url = new URL(this.baseUrl);
    url.pathname = vhost === '/' ? '/' : `/${encodeURIComponent(vhost)}`;
    return url.toString();
  }

  stopApp(): Promise<void> {
    return this.control.stopApp();
  }

  startApp(): Promise<void> {
    return this.control.startApp();
  }

  /** A new vhost that guest may use fully; isolates one test file's exchanges and queues. */
  async createVhost(): Promise<{ name: string; url: string; delete(): Promise<void> }> {
    const name = `dragon_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await this.control.ctl(['add_vhost', name]);
    await this.control.ctl(['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
    return {
      name,
      url: this.url(name),
      delete: async () => {
        await this.control.ctl(['delete_vhost', name]);
      },
    };
  }
}

let shared: TestRabbitmq | undefined;

/** The node shared by the whole test run. */
export function sharedRabbitmq(): TestRabbitmq {
  if (!shared) {
    const url = required('DRAGON_TEST_RABBIT_URL');
    const control = new RabbitmqControl({
      ctl: required('DRAGON_TEST_RABBITMQCTL'),
      node: required('DRAGON_TEST_RABBIT_NODE'),
      env: JSON.parse(required('DRAGON_TEST_RABBITMQCTL_ENV')) as Record<string, string>,
      port: Number(new URL(url).port),
    });
    shared = new TestRabbitmq(control, url);
  }
  return shared;
}

/** amqp:// URL of the shared node (default vhost `/`). */
export function rabbitmqUrl(): string {
  return sharedRabbitmq().url();
}

/** `rabbitmqctl stop_app` on the shared node: simulates a broker going down (see the warning above). */
export function rabbitmqStopApp(): Promise<void> {
  return sharedRabbitmq().stopApp();
}

/** `rabbitmqctl start_app` on the shared node; resolves once clients can connect again. */
export function rabbitmqStartApp(): Promise<void> {
  return sharedRabbitmq().startApp();
}

/** A vhost of its own on the shared node (add_vhost + set_permissions for guest). */
export function createVhost(): Promise<{ name: string; url: string; delete(): Promise<void> }> {
  return sharedRabbitmq().createVhost();
}

/**
 * A RabbitMQ node for this test file alone, safe to stop and start without
 * disturbing other files. Call stop() in afterAll.
 */
export async function startRabbitmqNode(): Promise<TestRabbitmq & { stop(): Promise<void> }> {
  const baseDir = mkdtempSync(join(tmpdir(), 'dragon-test-rabbitmq-'));
  try {
    const server = await startRabbitmq(baseDir);
    const node = new TestRabbitmq(server.control, server.url);
    // A crashed worker must not leave the node running.
    const onExit = () => server.killNow();
    process.once('exit', onExit);
    return Object.assign(node, {
      async stop() {
        process.removeListener('exit', onExit);
        await server.stop();
        rmSync(baseDir, { recursive: true, force: true });
      },
    });
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
}
