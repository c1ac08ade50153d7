/**
 * A closed-loop HTTP load generator, run as its own process so it does not
 * share an event loop with the server under test: `concurrency` keep-alive
 * connections each send the next request as soon as the previous answered.
 * Prints {requests, errors, seconds, rps, p50_ms, p99_ms} as JSON.
 */
import http from 'node:http';

const [url, seconds, concurrency, token] = process.argv.slice(2);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const latencies: number[] = [];
let errors = 0;
const deadline = Date.now() + Number(seconds) * 1000;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        agent,
        headers: token ? { 'x-auth-token': token } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function worker(): Promise<void> {
  while (Date.now() < deadline) await once();
}

const began = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (Date.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed, p50_ms: pct(0.5), p99_ms: pct(0.99) })}\n`,
);
agent.destroy();
