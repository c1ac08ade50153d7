/**
 * Names in the bank: the checkpoint container `<policy name>_<UTC
 * yyyymmddTHHMMSSZ>` made Swift-safe, and the object names plugins may use.
 */
import type { SwiftClient } from '../../common/openstack/swift.js';
import { MANIFEST_OBJECT } from './format.js';

/** Swift's default limit on container names (bytes of UTF-8). */
export const MAX_CONTAINER_NAME_BYTES = 256;
/** Room kept for the `_segments` container that holds SLO segments, and a `-NN` suffix. */
const SEGMENTS_SUFFIX = '_segments';
const UNIQUE_SUFFIX_ROOM = 4;

/** `20261126T101500Z` for the UTC time of `date`. */
export function bankTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * The checkpoint container's name. Unicode is kept (normalised to NFC so the
 * same policy name always gives the same bytes); '/' (Swift's path
 * separator), control characters and white space become '-'; the policy part
 * is cut (at a character boundary) so that the name, its `_segments`
 * container and a uniqueness suffix all stay within 256 bytes.
 */
export function containerName(policyName: string, date: Date, suffix?: number): string {
  let base = policyName
    .normalize('NFC')
    .replace(/[\s/\\\p{Cc}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  if (!base) base = 'policy';
  const tail = `_${bankTimestamp(date)}${suffix && suffix > 1 ? `-${suffix}` : ''}`;
  const budget = MAX_CONTAINER_NAME_BYTES - SEGMENTS_SUFFIX.length - UNIQUE_SUFFIX_ROOM - bytes(tail);
  let cut = '';
  for (const ch of base) {
    if (bytes(cut) + bytes(ch) > budget) break;
    cut += ch;
  }
  return `${cut}${tail}`;
}

/** The container holding the SLO segments of a checkpoint's large objects. */
export function segmentContainerName(container: string): string {
  return `${container}${SEGMENTS_SUFFIX}`;
}

/**
 * Creates a new, empty container for a checkpoint under the first free name
 * (`..._20261126T101500Z`, then `-2`, `-3`, ...). A PUT without metadata
 * never changes an existing container and tells whether it was new, so two
 * writers can never end up sharing one.
 */
export async function createUniqueContainer(
  swift: SwiftClient,
  policyName: string,
  date: Date,
): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const name = containerName(policyName, date, n);
    // No HEAD first: the PUT carries no metadata, so on a name that is taken it changes nothing and
    // answers 202 instead of 201 (one round trip per checkpoint less, and no race between the two).
    if (await swift.createContainer(name)) return name;
  }
  throw new Error(`bank: no free container name for policy ${policyName} at ${bankTimestamp(date)}`);
}

/**
 * Object names a plugin may write: relative paths without '..' or empty
 * parts, not the manifest (the bank writes it last itself).
 */
export function validateObjectName(name: string): void {
  const bad = (why: string) => new Error(`bank: invalid object name ${JSON.stringify(name)}: ${why}`);
  if (typeof name !== 'string' || name.length === 0) throw bad('empty');
  if (name.startsWith('/')) throw bad('must not start with /');
  if (name.split('/').some((p) => p === '..' || p === '.' || p === ''))
    throw bad('no "..", "." or empty parts');
  if (name === MANIFEST_OBJECT) throw bad(`${MANIFEST_OBJECT} is written by the bank`);
  if (/\p{Cc}/u.test(name)) throw bad('control characters');
  if (bytes(name) > 1024) throw bad('longer than 1024 bytes');
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
