/**
 * The identity store of the simulated Keystone: domains, projects, users,
 * roles (with implications), role assignments, application credentials,
 * trusts, regions, services and endpoints, and revoked audit ids. Pure data
 * and the rules Keystone applies to it; HTTP lives in keystone.ts so that
 * tests and the other simulated services can seed and inspect it directly.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const DEFAULT_DOMAIN_ID = 'default';

export interface Domain {
  id: string;
  name: string;
  enabled: boolean;
  description: string;
}
export interface Project {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  description: string;
  parentId: string;
}
export interface User {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  defaultProjectId?: string;
  /** salt + SHA-256; a simulator needs no slow hash, but it still never keeps the clear password. */
  passwordHash?: string;
}
export interface Role {
  id: string;
  name: string;
}
export type AssignmentTarget = { projectId: string } | { domainId: string } | { system: 'all' };
export interface Assignment {
  userId: string;
  roleId: string;
  target: AssignmentTarget;
}
export interface ApplicationCredential {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  description: string;
  roleIds: string[];
  expiresAt?: number;
  unrestricted: boolean;
  secretHash: string;
}
export interface Trust {
  id: string;
  trustorUserId: string;
  trusteeUserId: string;
  projectId: string;
  roleIds: string[];
  impersonation: boolean;
  expiresAt?: number;
  remainingUses?: number;
  allowRedelegation: boolean;
}
export interface Region {
  id: string;
  description: string;
  parentRegionId: string | null;
}
export interface Service {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  description: string;
}
export type Interface = 'public' | 'internal' | 'admin';
export interface Endpoint {
  id: string;
  serviceId: string;
  interface: Interface;
  regionId: string;
  url: string;
  enabled: boolean;
}

export interface IdentityStats {
  /** GET/HEAD /v3/auth/tokens calls, so tests can tell a cache hit from a Keystone round trip. */
  validations: number;
  issued: number;
  authFailures: number;
}

export interface BootstrapOptions {
  adminPassword?: string;
  adminUser?: string;
  adminProject?: string;
  adminRole?: string;
  serviceProject?: string;
  /** Dragon's service user, given roles `service` and `admin` on the service project. */
  dragonUser?: string;
  dragonPassword?: string;
  regionId?: string;
  /** Public/internal/admin URL of the identity endpoint (usually the simulator's own URL + /v3/). */
  identityUrl?: string;
}

export interface BootstrapResult {
  domainId: string;
  adminUserId: string;
  adminProjectId: string;
  serviceProjectId: string;
  dragonUserId: string;
  roles: Record<'admin' | 'member' | 'reader' | 'service', string>;
  regionId: string;
}

export class IdentityError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const uuidHex = () => randomUUID().replaceAll('-', '');

function hashSecret(secret: string, salt = randomBytes(16).toString('hex')): string {
  return `${salt}$${createHash('sha256').update(`${salt}${secret}`).digest('hex')}`;
}

function secretMatches(secret: string, stored: string | undefined): boolean {
  if (!stored) return false;
  const [salt] = stored.split('$');
  const a = Buffer.from(hashSecret(secret, salt));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

const sameTarget = (a: AssignmentTarget, b: AssignmentTarget) => JSON.stringify(a) === JSON.stringify(b);

export class IdentityStore {
  readonly domains = new Map<string, Domain>();
  readonly projects = new Map<string, Project>();
  readonly users = new Map<string, User>();
  readonly roles = new Map<string, Role>();
  /** prior role id -> implied role ids */
  readonly impliedRoles = new Map<string, Set<string>>();
  assignments: Assignment[] = [];
  readonly applicationCredentials = new Map<string, ApplicationCredential>();
  readonly trusts = new Map<string, Trust>();
  readonly regions = new Map<string, Region>();
  readonly services = new Map<string, Service>();
  readonly endpoints = new Map<string, Endpoint>();
  /** audit id -> revocation time (s). A token is revoked when any of its audit ids is here. */
  readonly revokedAuditIds = new Map<string, number>();
  readonly stats: IdentityStats = { validations: 0, issued: 0, authFailures: 0 };
  /** The project whose admins are cloud admins (`is_admin_project`), set by bootstrap. */
  adminProjectId?: string;

  constructor() {
    this.domains.set(DEFAULT_DOMAIN_ID, {
      id: DEFAULT_DOMAIN_ID,
      name: 'Default',
      enabled: true,
      description: 'The default domain',
    });
  }

  // ---- domains, projects, users, roles -------------------------------------------------------

  createDomain(name: string, description = ''): Domain {
    if (this.findDomain({ name }))
      throw new IdentityError(409, `Conflict occurred attempting to store domain`);
    const d = { id: uuidHex(), name, enabled: true, description };
    this.domains.set(d.id, d);
    return d;
  }

  findDomain(ref: { id?: string; name?: string }): Domain | undefined {
    if (ref.id) return this.domains.get(ref.id);
    return [...this.domains.values()].find((d) => d.name === ref.name);
  }

  createProject(p: { name: string; domainId?: string; description?: string; enabled?: boolean }): Project {
    const domainId = p.domainId ?? DEFAULT_DOMAIN_ID;
    if (!this.domains.has(domainId)) throw new IdentityError(400, `Could not find domain: ${domainId}.`);
    if (this.findProject({ name: p.name, domainId }))
      throw new IdentityError(409, `Conflict occurred attempting to store project - Duplicate entry.`);
    const project: Project = {
      id: uuidHex(),
      name: p.name,
      domainId,
      enabled: p.enabled ?? true,
      description: p.description ?? '',
      parentId: domainId,
    };
    this.projects.set(project.id, project);
    return project;
  }

  findProject(ref: { id?: string; name?: string; domainId?: string }): Project | undefined {
    if (ref.id) return this.projects.get(ref.id);
    const domainId = ref.domainId ?? DEFAULT_DOMAIN_ID;
    return [...this.projects.values()].find((p) => p.name === ref.name && p.domainId === domainId);
  }

  createUser(u: {
    name: string;
    password?: string;
    domainId?: string;
    enabled?: boolean;
    defaultProjectId?: string;
  }): User {
    const domainId = u.domainId ?? DEFAULT_DOMAIN_ID;
    if (!this.domains.has(domainId)) throw new IdentityError(400, `Could not find domain: ${domainId}.`);
    if (this.findUser({ name: u.name, domainId }))
      throw new IdentityError(409, `Conflict occurred attempting to store user - Duplicate entry.`);
    const user: User = {
      id: uuidHex(),
      name: u.name,
      domainId,
      enabled: u.enabled ?? true,
      defaultProjectId: u.defaultProjectId,
      passwordHash: u.password === undefined ? undefined : hashSecret(u.password),
    };
    this.users.set(user.id, user);
    return user;
  }

  setPassword(userId: string, password: string): void {
    const user = this.mustGet(this.users, userId, 'user');
    user.passwordHash = hashSecret(password);
  }

  findUser(ref: { id?: string; name?: string; domainId?: string }): User | undefined {
    if (ref.id) return this.users.get(ref.id);
    const domainId = ref.domainId ?? DEFAULT_DOMAIN_ID;
    return [...this.users.values()].find((u) => u.name === ref.name && u.domainId === domainId);
  }

  checkPassword(userId: string, password: string): boolean {
    const user = this.users.get(userId);
    return !!user && secretMatches(password, user.passwordHash);
  }

  createRole(name: string): Role {
    const existing = this.findRole(name);
    if (existing)
      throw new IdentityError(409, `Conflict occurred attempting to store role - Duplicate entry.`);
    const role = { id: uuidHex(), name };
    this.roles.set(role.id, role);
    return role;
  }

  /** The role with this name, created if missing (bootstrap and tests). */
  ensureRole(name: string): Role {
    return this.findRole(name) ?? this.createRole(name);
  }

  findRole(nameOrId: string): Role | undefined {
    return this.roles.get(nameOrId) ?? [...this.roles.values()].find((r) => r.name === nameOrId);
  }

  addImpliedRole(priorRoleId: string, impliedRoleId: string): void {
    this.mustGet(this.roles, priorRoleId, 'role');
    this.mustGet(this.roles, impliedRoleId, 'role');
    if (!this.impliedRoles.has(priorRoleId)) this.impliedRoles.set(priorRoleId, new Set());
    this.impliedRoles.get(priorRoleId)!.add(impliedRoleId);
  }

  /** The roles plus every role they imply, transitively (admin -> member -> reader). */
  expandRoles(roleIds: Iterable<string>): Role[] {
    const seen = new Set<string>();
    const todo = [...roleIds];
    while (todo.length) {
      const id = todo.pop()!;
      if (seen.has(id) || !this.roles.has(id)) continue;
      seen.add(id);
      todo.push(...(this.impliedRoles.get(id) ?? []));
    }
    return [...seen].map((id) => this.roles.get(id)!);
  }

  // ---- role assignments -----------------------------------------------------------------------

  grant(userId: string, roleId: string, target: AssignmentTarget): void {
    this.mustGet(this.users, userId, 'user');
    this.mustGet(this.roles, roleId, 'role');
    if ('projectId' in target) this.mustGet(this.projects, target.projectId, 'project');
    if ('domainId' in target) this.mustGet(this.domains, target.domainId, 'domain');
    if (!this.hasAssignment(userId, roleId, target)) this.assignments.push({ userId, roleId, target });
  }

  hasAssignment(userId: string, roleId: string, target: AssignmentTarget): boolean {
    return this.assignments.some(
      (a) => a.userId === userId && a.roleId === roleId && sameTarget(a.target, target),
    );
  }

  revokeGrant(userId: string, roleId: string, target: AssignmentTarget): void {
    const before = this.assignments.length;
    this.assignments = this.assignments.filter(
      (a) => !(a.userId === userId && a.roleId === roleId && sameTarget(a.target, target)),
    );
    if (this.assignments.length === before) throw new IdentityError(404, `Could not find role assignment.`);
  }

  /** Effective roles of a user on a target, implied roles included; empty means "not authorized there". */
  effectiveRoles(userId: string, target: AssignmentTarget): Role[] {
    const direct = this.assignments.filter((a) => a.userId === userId && sameTarget(a.target, target));
    return this.expandRoles(direct.map((a) => a.roleId));
  }

  // ---- application credentials and trusts -----------------------------------------------------

  /** Returns the credential and its secret; the secret is only ever returned here, like Keystone. */
  createApplicationCredential(a: {
    userId: string;
    projectId: string;
    name: string;
    secret?: string;
    description?: string;
    roleIds?: string[];
    expiresAt?: number;
    unrestricted?: boolean;
  }): { credential: ApplicationCredential; secret: string } {
    const owned = this.effectiveRoles(a.userId, { projectId: a.projectId }).map((r) => r.id);
    const roleIds = a.roleIds?.length ? a.roleIds : owned;
    for (const r of roleIds)
      if (!owned.includes(r))
        throw new IdentityError(403, 'Cannot create an application credential with a role you do not have.');
    if ([...this.applicationCredentials.values()].some((c) => c.userId === a.userId && c.name === a.name))
      throw new IdentityError(409, `Conflict occurred attempting to store application_credential.`);
    const secret = a.secret ?? randomBytes(48).toString('base64url');
    const credential: ApplicationCredential = {
      id: uuidHex(),
      name: a.name,
      userId: a.userId,
      projectId: a.projectId,
      description: a.description ?? '',
      roleIds,
      expiresAt: a.expiresAt,
      unrestricted: a.unrestricted ?? false,
      secretHash: hashSecret(secret),
    };
    this.applicationCredentials.set(credential.id, credential);
    return { credential, secret };
  }

  checkApplicationCredentialSecret(id: string, secret: string): boolean {
    return secretMatches(secret, this.applicationCredentials.get(id)?.secretHash);
  }

  createTrust(t: Omit<Trust, 'id' | 'allowRedelegation'> & { allowRedelegation?: boolean }): Trust {
    this.mustGet(this.users, t.trustorUserId, 'user');
    this.mustGet(this.users, t.trusteeUserId, 'user');
    const owned = this.effectiveRoles(t.trustorUserId, { projectId: t.projectId }).map((r) => r.id);
    for (const r of t.roleIds)
      if (!owned.includes(r)) throw new IdentityError(403, 'Trustor does not have the delegated role.');
    const trust: Trust = { ...t, allowRedelegation: t.allowRedelegation ?? false, id: uuidHex() };
    this.trusts.set(trust.id, trust);
    return trust;
  }

  // ---- catalog --------------------------------------------------------------------------------

  createRegion(id: string, description = '', parentRegionId: string | null = null): Region {
    const region = { id, description, parentRegionId };
    this.regions.set(id, region);
    return region;
  }

  createService(s: { type: string; name: string; description?: string; enabled?: boolean }): Service {
    const service = {
      id: uuidHex(),
      type: s.type,
      name: s.name,
      description: s.description ?? '',
      enabled: s.enabled ?? true,
    };
    this.services.set(service.id, service);
    return service;
  }

  createEndpoint(e: { serviceId: string; interface: Interface; regionId: string; url: string }): Endpoint {
    this.mustGet(this.services, e.serviceId, 'service');
    if (!this.regions.has(e.regionId)) this.createRegion(e.regionId);
    const endpoint = { ...e, id: uuidHex(), enabled: true };
    this.endpoints.set(endpoint.id, endpoint);
    return endpoint;
  }

  /**
   * Registers a service with the same URL on all three interfaces (what
   * `keystone-manage bootstrap` and devstack do), replacing endpoints of the
   * same service type in that region. Returns the service.
   */
  registerService(type: string, name: string, url: string, regionId = 'RegionOne'): Service {
    const service =
      [...this.services.values()].find((s) => s.type === type) ?? this.createService({ type, name });
    for (const [id, e] of this.endpoints) {
      if (e.serviceId === service.id && e.regionId === regionId) this.endpoints.delete(id);
    }
    for (const iface of ['public', 'internal', 'admin'] as const) {
      this.createEndpoint({ serviceId: service.id, interface: iface, regionId, url });
    }
    return service;
  }

  /** The token catalog: `%(project_id)s` / `%(tenant_id)s` substituted as Keystone does. */
  catalogFor(projectId?: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const s of this.services.values()) {
      if (!s.enabled) continue;
      const endpoints = [...this.endpoints.values()]
        .filter((e) => e.serviceId === s.id && e.enabled)
        .flatMap((e) => {
          const needsProject = /%\((project_id|tenant_id)\)s/.test(e.url);
          // Keystone drops endpoints it cannot substitute (unscoped tokens).
          if (needsProject && !projectId) return [];
          const url = e.url.replaceAll(/%\((project_id|tenant_id)\)s/g, projectId ?? '');
          return [{ id: e.id, interface: e.interface, region_id: e.regionId, region: e.regionId, url }];
        });
      out.push({ id: s.id, type: s.type, name: s.name, endpoints });
    }
    return out;
  }

  // ---- bootstrap --------------------------------------------------------------------------------

  /**
   * What `keystone-manage bootstrap` plus a service setup leave behind: an
   * admin project/user/role (admin implies member implies reader), a
   * `service` project, Dragon's service user with roles `service` and
   * `admin` there, and the identity endpoint when its URL is known.
   */
  bootstrap(o: BootstrapOptions = {}): BootstrapResult {
    const admin = this.ensureRole(o.adminRole ?? 'admin');
    const member = this.ensureRole('member');
    const reader = this.ensureRole('reader');
    const service = this.ensureRole('service');
    this.addImpliedRole(admin.id, member.id);
    this.addImpliedRole(member.id, reader.id);
    const project = (name: string) =>
      this.findProject({ name, domainId: DEFAULT_DOMAIN_ID }) ?? this.createProject({ name });
    const user = (name: string, password: string, defaultProjectId: string) => {
      const existing = this.findUser({ name, domainId: DEFAULT_DOMAIN_ID });
      if (existing) {
        this.setPassword(existing.id, password);
        return existing;
      }
      return this.createUser({ name, password, defaultProjectId });
    };
    const adminProject = project(o.adminProject ?? 'admin');
    const serviceProject = project(o.serviceProject ?? 'service');
    const adminUser = user(o.adminUser ?? 'admin', o.adminPassword ?? 'ADMIN_PASS', adminProject.id);
    const dragonUser = user(o.dragonUser ?? 'dragon', o.dragonPassword ?? 'DRAGON_PASS', serviceProject.id);
    this.grant(adminUser.id, admin.id, { projectId: adminProject.id });
    this.grant(adminUser.id, admin.id, { system: 'all' });
    this.grant(dragonUser.id, service.id, { projectId: serviceProject.id });
    this.grant(dragonUser.id, admin.id, { projectId: serviceProject.id });
    this.adminProjectId = adminProject.id;
    const regionId = o.regionId ?? 'RegionOne';
    if (!this.regions.has(regionId)) this.createRegion(regionId);
    if (o.identityUrl) this.registerService('identity', 'keystone', o.identityUrl, regionId);
    return {
      domainId: DEFAULT_DOMAIN_ID,
      adminUserId: adminUser.id,
      adminProjectId: adminProject.id,
      serviceProjectId: serviceProject.id,
      dragonUserId: dragonUser.id,
      roles: { admin: admin.id, member: member.id, reader: reader.id, service: service.id },
      regionId,
    };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  mustGet<T>(map: Map<string, T>, id: string, kind: string): T {
    const v = map.get(id);
    if (!v) throw new IdentityError(404, `Could not find ${kind}: ${id}.`);
    return v;
  }
}
