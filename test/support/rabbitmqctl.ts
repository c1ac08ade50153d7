/**
 * Controls one private RabbitMQ node through rabbitmqctl. The node is found
 * through its own epmd port and Erlang cookie (in ctlEnv), never the
 * machine's default node.
 */
import { portAccepts, run, sleep } from './processes.js';

export interface RabbitmqControlInfo {
  /** Path of the rabbitmqctl script (the unwrapped one: it does not `su rabbitmq`). */
  ctl: string;
  /** Erlang node name, e.g. dragontest1234@localhost. */
  node: string;
  /** Environment rabbitmqctl needs to reach the node (HOME with the cookie, ERL_EPMD_PORT, ...). */
  env: Record<string, string>;
  /** AMQP port on 127.0.0.1. */
  port: number;
}

/** The process environment without RabbitMQ/Erlang settings that could point at another node. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(RABBITMQ_|ERL_)/.test(key)) env[key] = value;
  }
  return env;
}

export class RabbitmqControl {
  constructor(readonly info: RabbitmqControlInfo) {}

  get node(): string {
    return this.info.node;
  }

  /** Runs `rabbitmqctl -n <node> ...args` and returns its standard output. */
  async ctl(args: string[], timeoutMs = 120_000): Promise<string> {
    const { stdout } = await run(this.info.ctl, ['-n', this.info.node, ...args], {
      env: { ...cleanEnv(), ...this.info.env },
      timeoutMs,
    });
    return stdout;
  }

  /** Stops the RabbitMQ application (the Erlang node stays up): every client connection drops. */
  async stopApp(): Promise<void> {
    await this.ctl(['stop_app']);
  }

  /** Starts the application again and returns once clients can connect. */
  async startApp(): Promise<void> {
    await this.ctl(['start_app']);
    await this.awaitReady();
  }

  /** Waits until the broker has booted and its AMQP listener accepts connections. */
  async awaitReady(timeoutMs = 90_000): Promise<void> {
    await this.ctl(['await_startup', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 10_000);
    const deadline = Date.now() + timeoutMs;
    while (!(await portAccepts(this.info.port))) {
      if (Date.now() > deadline)
        throw new Error(`RabbitMQ node ${this.node} does not accept AMQP connections`);
      await sleep(100);
    }
  }
}
