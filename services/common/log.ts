import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with '[Redacted]' wherever they appear in a log line.
 * The config loader never passes secrets, but a careless `log.info({ req })`
 * must still not leak a token or password.
 */
const REDACT = [
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  '*.*.password',
  '*.*.secret',
  'headers["x-auth-token"]',
  'headers["x-service-token"]',
  'headers["x-subject-token"]',
  '*.headers["x-auth-token"]',
  '*.headers["x-service-token"]',
  '*.headers["x-subject-token"]',
  'transport_url',
  'connection',
];

export interface LogOptions {
  debug?: boolean;
  format?: 'json' | 'text';
  /** Overrides debug and DRAGON_LOG_LEVEL (tests capture at a known level). */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

let root: Logger = pino({ level: process.env.DRAGON_LOG_LEVEL ?? 'info', redact: REDACT, base: undefined });

function textStream(out: NodeJS.WritableStream): NodeJS.WritableStream {
  const levels: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARNING',
    50: 'ERROR',
    60: 'CRITICAL',
  };
  return {
    write(line: string) {
      const { level, time, msg, service, ...rest } = JSON.parse(line);
      const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      out.write(
        `${new Date(time).toISOString()} ${levels[level] ?? level} ${service ?? ''} ${msg ?? ''}${extra}\n`,
      );
      return true;
    },
  } as unknown as NodeJS.WritableStream;
}

/** Sets up the process-wide logger once the configuration is known. */
export function configureLogging(opts: LogOptions): Logger {
  const out = opts.destination ?? process.stdout;
  root = pino(
    {
      level: opts.level ?? (opts.debug ? 'debug' : (process.env.DRAGON_LOG_LEVEL ?? 'info')),
      redact: REDACT,
      base: undefined,
    },
    (opts.format === 'text' ? textStream(out) : out) as pino.DestinationStream,
  );
  return root;
}

/** A child logger tagged with the service or module name; extra bindings (request_id, execution_id, step) follow. */
export function getLogger(service: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ service, ...bindings });
}

/**
 * The process-wide logger itself, for per-request hot paths: binding
 * `service` and the request ids in the line's own object writes the same
 * line as a child logger would, without building a child per request.
 */
export function rootLogger(): Logger {
  return root;
}
