import Table from 'cli-table3';
import { stringify } from 'yaml';

export const FORMATS = ['table', 'json', 'yaml', 'value', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** A column as OSC prints it (`Backup Site`) and how to read it from an API object (`backup_site`). */
export interface Column {
  name: string;
  key: string;
  get?: (row: Record<string, unknown>) => unknown;
}

export interface OutputOptions {
  format?: Format;
  column?: string[];
  /** list only: cliff's --sort-column (repeatable) and --sort-descending */
  sortColumn?: string[];
  sortDescending?: boolean;
}

export const col = (name: string, key: string, get?: Column['get']): Column => ({ name, key, get });

/** Columns picked with -c, in the order asked; unknown names are dropped unless none match (cliff's rule). */
export function selectColumns(columns: Column[], requested: string[] | undefined): Column[] {
  if (!requested?.length) return columns;
  const chosen: Column[] = [];
  for (const want of requested) {
    const lower = want.toLowerCase();
    const found =
      columns.find((c) => c.name === want) ??
      columns.find((c) => c.name.toLowerCase() === lower || c.key.toLowerCase() === lower);
    if (found && !chosen.includes(found)) chosen.push(found);
  }
  if (chosen.length === 0) {
    const asked = requested.map((r) => `'${r}'`).join(', ');
    const known = columns.map((c) => `'${c.name}'`).join(', ');
    throw new Error(`No recognized column names in [${asked}]. Recognized columns are (${known}).`);
  }
  return chosen;
}

function cellValue(row: Record<string, unknown>, c: Column): unknown {
  const v = c.get ? c.get(row) : row[c.key];
  return v === undefined ? null : v;
}

/** Text rendering of a cell in OSC's habits: None, True/False, a, b for lists, k='v' for dicts. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    return v.every((x) => typeof x !== 'object' || x === null)
      ? v.map(formatCell).join(', ')
      : JSON.stringify(v);
  }
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}='${typeof x === 'object' && x !== null ? JSON.stringify(x) : formatCell(x)}'`)
      .join(', ');
  }
  return String(v);
}

/** An ASCII table like prettytable's: a rule under the header and around the edges, none between rows. */
export function asciiTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: false },
    chars: {
      top: '-',
      'top-mid': '+',
      'top-left': '+',
      'top-right': '+',
      bottom: '-',
      'bottom-mid': '+',
      'bottom-left': '+',
      'bottom-right': '+',
      left: '|',
      'left-mid': '+',
      mid: '-',
      'mid-mid': '+',
      right: '|',
      'right-mid': '+',
      middle: '|',
    },
  });
  table.push(...rows);
  const lines = table.toString().split('\n');
  const rules = lines.map((l, i) => (l.startsWith('+') ? i : -1)).filter((i) => i >= 0);
  const keep = new Set([rules[0], rules[1], rules[rules.length - 1]]);
  return `${lines.filter((l, i) => !l.startsWith('+') || keep.has(i)).join('\n')}\n`;
}

function csvField(v: unknown): string {
  // Python's csv.QUOTE_NONNUMERIC, which cliff uses, writes None as "".
  if (v === null || v === undefined) return '""';
  if (typeof v === 'number' || typeof v === 'boolean') return formatCell(v);
  return `"${formatCell(v).replace(/"/g, '""')}"`;
}

function jsonOut(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

function compareCells(a: unknown, b: unknown): number {
  // None sorts first; numbers compare as numbers.
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return formatCell(a).localeCompare(formatCell(b));
}

/** Client-side sort by the --sort-column names (which need not be among the -c columns). */
function sortRows(rows: Record<string, unknown>[], columns: Column[], opts: OutputOptions) {
  if (!opts.sortColumn?.length) return rows;
  const keys = opts.sortColumn
    .map((name) => columns.find((c) => c.name === name || c.name.toLowerCase() === name.toLowerCase()))
    .filter((c): c is Column => c !== undefined);
  const sign = opts.sortDescending ? -1 : 1;
  return [...rows].sort((x, y) => {
    for (const c of keys) {
      const d = compareCells(cellValue(x, c), cellValue(y, c));
      if (d !== 0) return sign * d;
    }
    return 0;
  });
}

/** Render a list command's rows in the chosen format. */
export function renderList(rows: Record<string, unknown>[], columns: Column[], opts: OutputOptions): string {
  const cols = selectColumns(columns, opts.column);
  const values = sortRows(rows, columns, opts).map((r) => cols.map((c) => cellValue(r, c)));
  switch (opts.format ?? 'table') {
    case 'json':
      return jsonOut(values.map((vs) => Object.fromEntries(cols.map((c, i) => [c.name, vs[i]]))));
    case 'yaml':
      return rows.length
        ? stringify(values.map((vs) => Object.fromEntries(cols.map((c, i) => [c.name, vs[i]]))))
        : '';
    case 'value':
      return values.map((vs) => `${vs.map(formatCell).join(' ')}\n`).join('');
    case 'csv':
      return [cols.map((c) => csvField(c.name)), ...values.map((vs) => vs.map(csvField))]
        .map((l) => `${l.join(',')}\n`)
        .join('');
    default:
      // OSC prints nothing at all for an empty list in table format.
      return rows.length
        ? asciiTable(
            cols.map((c) => c.name),
            values.map((vs) => vs.map(formatCell)),
          )
        : '';
  }
}

/** Render a show command's object as Field/Value pairs in the chosen format. */
export function renderShow(obj: Record<string, unknown>, columns: Column[], opts: OutputOptions): string {
  const cols = selectColumns(columns, opts.column);
  const values = cols.map((c) => cellValue(obj, c));
  switch (opts.format ?? 'table') {
    case 'json':
      return jsonOut(Object.fromEntries(cols.map((c, i) => [c.name, values[i]])));
    case 'yaml':
      return stringify(Object.fromEntries(cols.map((c, i) => [c.name, values[i]])));
    case 'value':
      return values.map((v) => `${formatCell(v)}\n`).join('');
    case 'csv':
      return [['"Field"', '"Value"'], ...cols.map((c, i) => [csvField(c.name), csvField(values[i])])]
        .map((l) => `${l.join(',')}\n`)
        .join('');
    default:
      return asciiTable(
        ['Field', 'Value'],
        cols.map((c, i) => [c.name, formatCell(values[i])]),
      );
  }
}
