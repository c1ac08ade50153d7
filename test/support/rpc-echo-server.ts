/** A second process for RPC tests: serves `echo`, `fail` and `record` on a topic over RabbitMQ. */
import { appendFileSync } from 'node:fs';
import { RabbitTransport } from '../../services/common/rpc/rabbit.js';

const [url, topic, server, recordFile] = process.argv.slice(2);
const transport = new RabbitTransport({ url });
await transport.connect();
await transport.listen(topic, server, {
  echo: (ctx, args) => ({ args, user: ctx.userId, project: ctx.projectId, server, pid: process.pid }),
  fail: () => {
    throw new Error('the remote handler failed on purpose');
  },
  record: (_ctx, args) => {
    appendFileSync(recordFile, `${JSON.stringify(args)}\n`);
    return null;
  },
});
process.stdout.write('rpc server ready\n');
process.on('SIGTERM', () => void transport.close().then(() => process.exit(0)));
