import { type Command, Option } from 'commander';
import { authenticate, resolveAuthOptions } from './auth.js';
import { DragonClient } from './client.js';
import type { CliIo } from './io.js';
import { type Column, FORMATS, type OutputOptions, renderList, renderShow } from './output.js';

/** commander's way to make an option repeatable. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** What every command handler gets: the io, a lazily authenticated client and printers. */
export class CommandContext {
  private clientPromise?: Promise<DragonClient>;

  constructor(
    readonly io: CliIo,
    private readonly globals: () => Record<string, unknown>,
  ) {}

  /** Authenticate once per invocation, only when a command actually talks to the API. */
  client(): Promise<DragonClient> {
    this.clientPromise ??= (async () => {
      const opts = resolveAuthOptions(this.globals(), this.io);
      return new DragonClient(await authenticate(opts));
    })();
    return this.clientPromise;
  }

  print(text: string): void {
    if (text) this.io.stdout.write(text);
  }

  warn(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  printList(rows: Record<string, unknown>[], columns: Column[], opts: OutputOptions): void {
    this.print(renderList(rows, columns, opts));
  }

  printShow(obj: Record<string, unknown>, columns: Column[], opts: OutputOptions): void {
    this.print(renderShow(obj, columns, opts));
  }
}

/** cliff's output options: -f/--format and repeatable -c/--column. */
export function withOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'the output format').choices(FORMATS).default('table'))
    .option('-c, --column <column>', 'specify the column(s) to include, can be repeated', collect, []);
}

/** cliff's list sorting options, applied on the client. */
export function withSortOptions(cmd: Command): Command {
  return cmd
    .option('--sort-column <column>', 'sort by this column (repeatable)', collect, [])
    .option('--sort-ascending', 'sort in ascending order (default)')
    .option('--sort-descending', 'sort in descending order');
}

/** --long, --limit/--marker and sorting, shared by list commands that page. */
export function withListOptions(cmd: Command): Command {
  return withSortOptions(withOutputOptions(cmd))
    .option('--long', 'list additional fields in output')
    .option('--limit <n>', 'maximum number of items to return (one page only)')
    .option('--marker <id>', 'the last item of the previous page');
}
