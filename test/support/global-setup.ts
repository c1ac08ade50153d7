/**
 * vitest globalSetup: starts the private PostgreSQL and RabbitMQ servers once
 * per run and hands their addresses to the test files through environment
 * variables (the forked test workers inherit process.env).
 */
import { startTestServices } from './services.js';

const log = (line: string) => process.stderr.write(`[test services] ${line}\n`);

export default async function setup(): Promise<() => Promise<void>> {
  const services = await startTestServices(log);
  Object.assign(process.env, services.env);
  return async () => {
    await services.stop();
  };
}
