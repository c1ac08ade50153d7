/**
 * Container ACLs as Swift's keystoneauth middleware reads them
 * (`X-Container-Read` / `X-Container-Write`): comma-separated elements,
 * each a referrer rule (`.r:*`, `.r:example.com`, `.r:-bad.com`), the
 * `.rlistings` flag, a `<project>:<user>` pair by id or name with `*` as a
 * wildcard, or (tempauth style, also accepted here) `AUTH_<project id>`
 * meaning every user of that project. This is how a backup site's project
 * is allowed to read a checkpoint container it does not own.
 */

export interface AclSubject {
  projectId: string;
  projectName: string;
  userId: string;
  userName: string;
}

export interface ParsedAcl {
  referrers: string[];
  listings: boolean;
  groups: string[];
}

export function parseAcl(acl: string | undefined): ParsedAcl {
  const out: ParsedAcl = { referrers: [], listings: false, groups: [] };
  for (const raw of (acl ?? '').split(',')) {
    const el = raw.trim();
    if (!el) continue;
    if (el === '.rlistings') out.listings = true;
    else if (el.startsWith('.r:')) out.referrers.push(el.slice(3));
    else if (el.startsWith('.referrer:')) out.referrers.push(el.slice(10));
    else out.groups.push(el);
  }
  return out;
}

/** Swift's referrer_allowed: the last matching rule wins; `-` negates; `*` is everyone. */
export function referrerAllowed(referer: string | undefined, rules: string[]): boolean {
  let host = '';
  try {
    host = referer ? new URL(referer).hostname : '';
  } catch {
    host = '';
  }
  let allowed = false;
  for (const rule of rules) {
    const negate = rule.startsWith('-');
    const r = negate ? rule.slice(1) : rule;
    const matches = r === '*' || (host !== '' && (r.startsWith('.') ? host.endsWith(r) : host === r));
    if (matches) allowed = !negate;
  }
  return allowed;
}

/** Whether the user is named by one of the ACL's user/group elements. */
export function subjectMatches(groups: string[], who: AclSubject): boolean {
  const projects = new Set([who.projectId, who.projectName, '*']);
  const users = new Set([who.userId, who.userName, '*']);
  for (const g of groups) {
    if (g === `AUTH_${who.projectId}`) return true;
    const i = g.indexOf(':');
    if (i < 0) {
      // Keystone v3 also accepts a bare `*` meaning every authenticated user.
      if (g === '*') return true;
      continue;
    }
    const p = g.slice(0, i);
    const u = g.slice(i + 1);
    if (projects.has(p) && users.has(u)) return true;
  }
  return false;
}

/**
 * Whether a read (GET/HEAD of an object, or a listing when `listing`) is
 * allowed by X-Container-Read, for a caller who is not the account's owner.
 */
export function readAllowed(
  acl: string | undefined,
  who: AclSubject | undefined,
  referer: string | undefined,
  listing: boolean,
): boolean {
  const parsed = parseAcl(acl);
  if (who && subjectMatches(parsed.groups, who)) return true;
  if (referrerAllowed(referer, parsed.referrers)) return !listing || parsed.listings;
  return false;
}

export function writeAllowed(acl: string | undefined, who: AclSubject | undefined): boolean {
  return who !== undefined && subjectMatches(parseAcl(acl).groups, who);
}

/** Rejects ACL values Swift would refuse (its 400 "Error parsing ACL"). */
export function validAcl(acl: string, kind: 'read' | 'write'): boolean {
  const p = parseAcl(acl);
  // Referrer rules only make sense for reads.
  if (kind === 'write' && (p.referrers.length > 0 || p.listings)) return false;
  return p.referrers.every((r) => r.length > 0 && r !== '-');
}
