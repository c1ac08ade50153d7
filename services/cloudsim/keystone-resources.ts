/**
 * The identity resources of the simulated Keystone (the CRUD subset Dragon,
 * its tests and the simulator's set-up use): domains, projects, users,
 * roles and implications, role assignments, application credentials,
 * trusts, regions, services and endpoints. Policy is simplified to
 * "admin, or the owner where Keystone allows the owner".
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  adminOnly,
  callerOf,
  FORBIDDEN_MESSAGE,
  fmtProject,
  fmtRole,
  fmtUser,
  isAdmin,
  link,
  sendError,
} from './keystone-http.js';
import {
  type AssignmentTarget,
  DEFAULT_DOMAIN_ID,
  IdentityError,
  type IdentityStore,
  type Interface,
} from './store.js';

export function mountIdentityResources(
  app: Express,
  store: IdentityStore,
  authenticated: RequestHandler,
): void {
  // ---- domains, projects, users, roles ---------------------------------------------------------

  app.get('/v3/domains', authenticated, (req, res) => {
    const domains = [...store.domains.values()].filter((d) => !req.query.name || d.name === req.query.name);
    res.json({
      domains: domains.map((d) => ({ ...d, links: link(req, `domains/${d.id}`) })),
      links: link(req, 'domains'),
    });
  });
  app.post('/v3/domains', authenticated, adminOnly, (req, res) => {
    const d = store.createDomain(String(req.body?.domain?.name ?? ''), req.body?.domain?.description);
    res.status(201).json({ domain: { ...d, links: link(req, `domains/${d.id}`) } });
  });

  app.get('/v3/projects', authenticated, adminOnly, (req, res) => {
    const projects = [...store.projects.values()].filter(
      (p) =>
        (!req.query.name || p.name === req.query.name) &&
        (!req.query.domain_id || p.domainId === req.query.domain_id),
    );
    res.json({ projects: projects.map((p) => fmtProject(req, p)), links: link(req, 'projects') });
  });
  app.post('/v3/projects', authenticated, adminOnly, (req, res) => {
    const p = req.body?.project ?? {};
    const project = store.createProject({
      name: String(p.name ?? ''),
      domainId: p.domain_id ?? DEFAULT_DOMAIN_ID,
      description: p.description,
      enabled: p.enabled,
    });
    res.status(201).json({ project: fmtProject(req, project) });
  });
  app.get('/v3/projects/:id', authenticated, (req, res) => {
    const c = callerOf(res);
    const p = store.mustGet(store.projects, req.params.id as string, 'project');
    if (!isAdmin(c) && c.claims.openstack_project_id !== p.id) return sendError(res, 403, FORBIDDEN_MESSAGE);
    res.json({ project: fmtProject(req, p) });
  });
  app.patch('/v3/projects/:id', authenticated, adminOnly, (req, res) => {
    const p = store.mustGet(store.projects, req.params.id as string, 'project');
    const patch = req.body?.project ?? {};
    if (typeof patch.enabled === 'boolean') p.enabled = patch.enabled;
    if (typeof patch.description === 'string') p.description = patch.description;
    if (typeof patch.name === 'string') p.name = patch.name;
    res.json({ project: fmtProject(req, p) });
  });
  app.delete('/v3/projects/:id', authenticated, adminOnly, (req, res) => {
    const id = req.params.id as string;
    store.mustGet(store.projects, id, 'project');
    store.projects.delete(id);
    store.assignments = store.assignments.filter(
      (a) => !('projectId' in a.target) || a.target.projectId !== id,
    );
    res.status(204).end();
  });

  app.get('/v3/users', authenticated, adminOnly, (req, res) => {
    const users = [...store.users.values()].filter(
      (u) =>
        (!req.query.name || u.name === req.query.name) &&
        (!req.query.domain_id || u.domainId === req.query.domain_id),
    );
    res.json({ users: users.map((u) => fmtUser(req, u)), links: link(req, 'users') });
  });
  app.post('/v3/users', authenticated, adminOnly, (req, res) => {
    const u = req.body?.user ?? {};
    const user = store.createUser({
      name: String(u.name ?? ''),
      password: typeof u.password === 'string' ? u.password : undefined,
      domainId: u.domain_id ?? DEFAULT_DOMAIN_ID,
      enabled: u.enabled,
      defaultProjectId: u.default_project_id,
    });
    res.status(201).json({ user: fmtUser(req, user) });
  });
  const selfOrAdmin = (req: Request, res: Response, next: NextFunction) => {
    const c = callerOf(res);
    if (!isAdmin(c) && c.user.id !== req.params.userId) return sendError(res, 403, FORBIDDEN_MESSAGE);
    next();
  };
  app.get('/v3/users/:userId', authenticated, selfOrAdmin, (req, res) => {
    res.json({ user: fmtUser(req, store.mustGet(store.users, req.params.userId as string, 'user')) });
  });
  app.patch('/v3/users/:userId', authenticated, adminOnly, (req, res) => {
    const u = store.mustGet(store.users, req.params.userId as string, 'user');
    const patch = req.body?.user ?? {};
    if (typeof patch.enabled === 'boolean') u.enabled = patch.enabled;
    if (typeof patch.password === 'string') store.setPassword(u.id, patch.password);
    if (typeof patch.default_project_id === 'string') u.defaultProjectId = patch.default_project_id;
    res.json({ user: fmtUser(req, u) });
  });
  app.delete('/v3/users/:userId', authenticated, adminOnly, (req, res) => {
    const id = req.params.userId as string;
    store.mustGet(store.users, id, 'user');
    store.users.delete(id);
    store.assignments = store.assignments.filter((a) => a.userId !== id);
    res.status(204).end();
  });

  app.get('/v3/roles', authenticated, (req, res) => {
    const roles = [...store.roles.values()].filter((r) => !req.query.name || r.name === req.query.name);
    res.json({ roles: roles.map((r) => fmtRole(req, r)), links: link(req, 'roles') });
  });
  app.post('/v3/roles', authenticated, adminOnly, (req, res) => {
    const role = store.createRole(String(req.body?.role?.name ?? ''));
    res.status(201).json({ role: fmtRole(req, role) });
  });
  app.get('/v3/roles/:id', authenticated, (req, res) => {
    res.json({ role: fmtRole(req, store.mustGet(store.roles, req.params.id as string, 'role')) });
  });
  app.put('/v3/roles/:prior/implies/:implied', authenticated, adminOnly, (req, res) => {
    store.addImpliedRole(req.params.prior as string, req.params.implied as string);
    res.status(201).json({
      role_inference: { prior_role: { id: req.params.prior }, implies: { id: req.params.implied } },
    });
  });

  // ---- role assignments -----------------------------------------------------------------------

  const assignmentRoutes = (prefix: string, target: (req: Request) => AssignmentTarget) => {
    app.put(`${prefix}/users/:userId/roles/:roleId`, authenticated, adminOnly, (req, res) => {
      store.grant(req.params.userId as string, req.params.roleId as string, target(req));
      res.status(204).end();
    });
    app.head(`${prefix}/users/:userId/roles/:roleId`, authenticated, adminOnly, (req, res) => {
      const ok = store.hasAssignment(req.params.userId as string, req.params.roleId as string, target(req));
      res.status(ok ? 204 : 404).end();
    });
    app.delete(`${prefix}/users/:userId/roles/:roleId`, authenticated, adminOnly, (req, res) => {
      store.revokeGrant(req.params.userId as string, req.params.roleId as string, target(req));
      res.status(204).end();
    });
    app.get(`${prefix}/users/:userId/roles`, authenticated, adminOnly, (req, res) => {
      const t = JSON.stringify(target(req));
      const roles = store.assignments
        .filter((a) => a.userId === req.params.userId && JSON.stringify(a.target) === t)
        .map((a) => store.roles.get(a.roleId)!);
      res.json({ roles: roles.map((r) => fmtRole(req, r)), links: link(req, 'roles') });
    });
  };
  assignmentRoutes('/v3/projects/:targetId', (req) => ({ projectId: req.params.targetId as string }));
  assignmentRoutes('/v3/domains/:targetId', (req) => ({ domainId: req.params.targetId as string }));
  assignmentRoutes('/v3/system', () => ({ system: 'all' }));

  app.get('/v3/role_assignments', authenticated, adminOnly, (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const list = store.assignments.filter(
      (a) =>
        (!q['user.id'] || a.userId === q['user.id']) &&
        (!q['role.id'] || a.roleId === q['role.id']) &&
        (!q['scope.project.id'] || ('projectId' in a.target && a.target.projectId === q['scope.project.id'])),
    );
    res.json({
      role_assignments: list.map((a) => ({
        user: { id: a.userId },
        role: { id: a.roleId },
        scope:
          'projectId' in a.target
            ? { project: { id: a.target.projectId } }
            : 'domainId' in a.target
              ? { domain: { id: a.target.domainId } }
              : { system: { all: true } },
      })),
      links: link(req, 'role_assignments'),
    });
  });

  // ---- application credentials ----------------------------------------------------------------

  const fmtAppCred = (req: Request, id: string) => {
    const c = store.applicationCredentials.get(id)!;
    return {
      id: c.id,
      name: c.name,
      user_id: c.userId,
      project_id: c.projectId,
      description: c.description,
      roles: c.roleIds.map((r) => ({ id: r, name: store.roles.get(r)?.name })),
      expires_at: c.expiresAt === undefined ? null : new Date(c.expiresAt).toISOString(),
      unrestricted: c.unrestricted,
      access_rules: [],
      links: link(req, `users/${c.userId}/application_credentials/${c.id}`),
    };
  };
  app.post('/v3/users/:userId/application_credentials', authenticated, (req, res) => {
    const c = callerOf(res);
    // Only the user itself, with a project-scoped token, as in Keystone.
    if (c.user.id !== req.params.userId || !c.claims.openstack_project_id)
      return sendError(res, 403, FORBIDDEN_MESSAGE);
    const b = req.body?.application_credential ?? {};
    const roleIds = Array.isArray(b.roles)
      ? b.roles.map((r: { id?: string; name?: string }) => store.findRole(r.id ?? r.name ?? '')?.id ?? '')
      : undefined;
    const { credential, secret } = store.createApplicationCredential({
      userId: c.user.id,
      projectId: c.claims.openstack_project_id,
      name: String(b.name ?? ''),
      secret: typeof b.secret === 'string' ? b.secret : undefined,
      description: b.description,
      roleIds,
      expiresAt: b.expires_at ? Date.parse(b.expires_at) : undefined,
      unrestricted: b.unrestricted === true,
    });
    res.status(201).json({ application_credential: { ...fmtAppCred(req, credential.id), secret } });
  });
  app.get('/v3/users/:userId/application_credentials', authenticated, selfOrAdmin, (req, res) => {
    const list = [...store.applicationCredentials.values()].filter(
      (c) => c.userId === req.params.userId && (!req.query.name || c.name === req.query.name),
    );
    res.json({ application_credentials: list.map((c) => fmtAppCred(req, c.id)), links: link(req, 'x') });
  });
  app.get('/v3/users/:userId/application_credentials/:id', authenticated, selfOrAdmin, (req, res) => {
    const cred = store.mustGet(
      store.applicationCredentials,
      req.params.id as string,
      'application credential',
    );
    if (cred.userId !== req.params.userId)
      throw new IdentityError(404, 'Could not find application credential.');
    res.json({ application_credential: fmtAppCred(req, cred.id) });
  });
  app.delete('/v3/users/:userId/application_credentials/:id', authenticated, selfOrAdmin, (req, res) => {
    const cred = store.mustGet(
      store.applicationCredentials,
      req.params.id as string,
      'application credential',
    );
    if (cred.userId !== req.params.userId)
      throw new IdentityError(404, 'Could not find application credential.');
    store.applicationCredentials.delete(cred.id);
    res.status(204).end();
  });

  // ---- trusts ---------------------------------------------------------------------------------

  const fmtTrust = (req: Request, id: string) => {
    const t = store.trusts.get(id)!;
    return {
      id: t.id,
      trustor_user_id: t.trustorUserId,
      trustee_user_id: t.trusteeUserId,
      project_id: t.projectId,
      impersonation: t.impersonation,
      allow_redelegation: t.allowRedelegation,
      remaining_uses: t.remainingUses ?? null,
      expires_at: t.expiresAt === undefined ? null : new Date(t.expiresAt).toISOString(),
      roles: t.roleIds.map((r) => ({ id: r, name: store.roles.get(r)?.name })),
      links: link(req, `OS-TRUST/trusts/${t.id}`),
    };
  };
  app.post('/v3/OS-TRUST/trusts', authenticated, (req, res) => {
    const c = callerOf(res);
    const b = req.body?.trust ?? {};
    if (b.trustor_user_id !== c.user.id)
      return sendError(res, 403, 'The authenticated user should match the trustor.');
    const projectId = b.project_id ?? c.claims.openstack_project_id;
    const roleIds = (Array.isArray(b.roles) ? b.roles : []).map((r: { id?: string; name?: string }) => {
      const role = store.findRole(r.id ?? r.name ?? '');
      if (!role) throw new IdentityError(404, `Could not find role: ${r.id ?? r.name}.`);
      return role.id;
    });
    const trust = store.createTrust({
      trustorUserId: c.user.id,
      trusteeUserId: String(b.trustee_user_id ?? ''),
      projectId,
      roleIds,
      impersonation: b.impersonation === true,
      expiresAt: b.expires_at ? Date.parse(b.expires_at) : undefined,
      remainingUses: typeof b.remaining_uses === 'number' ? b.remaining_uses : undefined,
      allowRedelegation: b.allow_redelegation === true,
    });
    res.status(201).json({ trust: fmtTrust(req, trust.id) });
  });
  app.get('/v3/OS-TRUST/trusts', authenticated, (req, res) => {
    const c = callerOf(res);
    const list = [...store.trusts.values()].filter(
      (t) =>
        (isAdmin(c) || t.trustorUserId === c.user.id || t.trusteeUserId === c.user.id) &&
        (!req.query.trustor_user_id || t.trustorUserId === req.query.trustor_user_id) &&
        (!req.query.trustee_user_id || t.trusteeUserId === req.query.trustee_user_id),
    );
    res.json({ trusts: list.map((t) => fmtTrust(req, t.id)), links: link(req, 'OS-TRUST/trusts') });
  });
  const trustParty = (req: Request, res: Response) => {
    const c = callerOf(res);
    const t = store.mustGet(store.trusts, req.params.id as string, 'trust');
    if (!isAdmin(c) && t.trustorUserId !== c.user.id && t.trusteeUserId !== c.user.id)
      throw new IdentityError(404, `Could not find trust: ${t.id}.`);
    return t;
  };
  app.get('/v3/OS-TRUST/trusts/:id', authenticated, (req, res) => {
    res.json({ trust: fmtTrust(req, trustParty(req, res).id) });
  });
  app.delete('/v3/OS-TRUST/trusts/:id', authenticated, (req, res) => {
    const t = trustParty(req, res);
    if (t.trustorUserId !== callerOf(res).user.id && !isAdmin(callerOf(res)))
      return sendError(res, 403, 'Only the trustor may delete a trust.');
    store.trusts.delete(t.id);
    res.status(204).end();
  });

  // ---- regions, services, endpoints -----------------------------------------------------------

  app.get('/v3/regions', authenticated, (req, res) => {
    res.json({
      regions: [...store.regions.values()].map((r) => ({
        id: r.id,
        description: r.description,
        parent_region_id: r.parentRegionId,
        links: link(req, `regions/${r.id}`),
      })),
      links: link(req, 'regions'),
    });
  });
  app.post('/v3/regions', authenticated, adminOnly, (req, res) => {
    const r = req.body?.region ?? {};
    const region = store.createRegion(String(r.id ?? ''), r.description ?? '', r.parent_region_id ?? null);
    res.status(201).json({ region: { ...region, parent_region_id: region.parentRegionId } });
  });
  app.get('/v3/services', authenticated, (req, res) => {
    const list = [...store.services.values()].filter((s) => !req.query.type || s.type === req.query.type);
    res.json({
      services: list.map((s) => ({ ...s, links: link(req, `services/${s.id}`) })),
      links: link(req, 'services'),
    });
  });
  app.post('/v3/services', authenticated, adminOnly, (req, res) => {
    const s = req.body?.service ?? {};
    const service = store.createService({
      type: String(s.type ?? ''),
      name: String(s.name ?? ''),
      description: s.description,
      enabled: s.enabled,
    });
    res.status(201).json({ service: { ...service, links: link(req, `services/${service.id}`) } });
  });
  app.delete('/v3/services/:id', authenticated, adminOnly, (req, res) => {
    const id = req.params.id as string;
    store.mustGet(store.services, id, 'service');
    store.services.delete(id);
    for (const [eid, e] of store.endpoints) if (e.serviceId === id) store.endpoints.delete(eid);
    res.status(204).end();
  });
  const fmtEndpoint = (req: Request, id: string) => {
    const e = store.endpoints.get(id)!;
    return {
      id: e.id,
      service_id: e.serviceId,
      interface: e.interface,
      region_id: e.regionId,
      region: e.regionId,
      url: e.url,
      enabled: e.enabled,
      links: link(req, `endpoints/${e.id}`),
    };
  };
  app.get('/v3/endpoints', authenticated, (req, res) => {
    const list = [...store.endpoints.values()].filter(
      (e) =>
        (!req.query.service_id || e.serviceId === req.query.service_id) &&
        (!req.query.interface || e.interface === req.query.interface) &&
        (!req.query.region_id || e.regionId === req.query.region_id),
    );
    res.json({ endpoints: list.map((e) => fmtEndpoint(req, e.id)), links: link(req, 'endpoints') });
  });
  app.post('/v3/endpoints', authenticated, adminOnly, (req, res) => {
    const e = req.body?.endpoint ?? {};
    if (!['public', 'internal', 'admin'].includes(e.interface))
      throw new IdentityError(400, `Invalid input for field 'interface': ${e.interface}`);
    const endpoint = store.createEndpoint({
      serviceId: String(e.service_id ?? ''),
      interface: e.interface as Interface,
      regionId: String(e.region_id ?? e.region ?? 'RegionOne'),
      url: String(e.url ?? ''),
    });
    res.status(201).json({ endpoint: fmtEndpoint(req, endpoint.id) });
  });
  app.delete('/v3/endpoints/:id', authenticated, adminOnly, (req, res) => {
    const id = req.params.id as string;
    store.mustGet(store.endpoints, id, 'endpoint');
    store.endpoints.delete(id);
    res.status(204).end();
  });
}
