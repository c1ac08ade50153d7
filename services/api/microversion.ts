/** The microversions this release speaks; bump MAX with each new one and document it in api-v1.md. */
export const SERVICE_TYPE = 'disaster-recovery';
export const MIN_VERSION = { major: 1, minor: 0 };
export const MAX_VERSION = { major: 1, minor: 0 };

export interface ApiVersion {
  major: number;
  minor: number;
}

export function formatVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

function cmp(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

/**
 * Picks our entry out of `OpenStack-API-Version` (which may list several
 * services, comma separated). Returns the negotiated version, or a reason
 * the header cannot be honoured.
 */
export function negotiate(header: string | undefined): { version: ApiVersion } | { error: string } {
  if (header === undefined || header.trim() === '') return { version: MIN_VERSION };
  const entries = header
    .split(',')
    .map((e) => e.trim().split(/\s+/))
    .filter((parts) => parts[0]?.toLowerCase() === SERVICE_TYPE);
  if (entries.length === 0) return { version: MIN_VERSION };
  const parts = entries[0];
  if (parts.length !== 2) return { error: `Invalid OpenStack-API-Version header: "${header}".` };
  const value = parts[1].toLowerCase();
  if (value === 'latest') return { version: MAX_VERSION };
  const m = /^(\d+)\.(\d+)$/.exec(value);
  if (!m) return { error: `Invalid microversion "${parts[1]}": expected MAJOR.MINOR or latest.` };
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  if (cmp(v, MIN_VERSION) < 0 || cmp(v, MAX_VERSION) > 0) {
    return {
      error: `Version ${formatVersion(v)} is not supported by the API. Minimum is ${formatVersion(MIN_VERSION)} and maximum is ${formatVersion(MAX_VERSION)}.`,
    };
  }
  return { version: v };
}
