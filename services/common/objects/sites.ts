/**
 * Sites tenants register in other clouds, with an application credential of
 * that cloud. The secret is stored encrypted (sites/secrets.ts) and never
 * leaves this module in a row meant for a view: `SiteRow` has no secret.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { DragonError } from '../errors.js';
import { isUniqueViolation } from './pagination.js';

export interface SiteRow {
  id: string;
  project_id: string;
  name: string;
  auth_url: string;
  region_name: string | null;
  interface: string;
  application_credential_id: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  'id',
  'project_id',
  'name',
  'auth_url',
  'region_name',
  'interface',
  'application_credential_id',
  'created_at',
  'updated_at',
] as const;

export async function listTenantSites(db: Knex, projectId: string): Promise<SiteRow[]> {
  return db('sites').select(COLUMNS).where({ project_id: projectId }).orderBy('name');
}

export async function findTenantSite(
  db: Knex,
  projectId: string,
  name: string,
): Promise<SiteRow | undefined> {
  return db('sites').select(COLUMNS).where({ project_id: projectId, name }).first();
}

/** The encrypted secret of a registered site, for building its session (never for a view). */
export async function tenantSiteSecret(db: Knex, id: string): Promise<string> {
  const row = await db('sites').where({ id }).first('application_credential_secret_enc');
  if (!row) throw new DragonError(404, `Site ${id} could not be found.`);
  return row.application_credential_secret_enc as string;
}

export interface TenantSiteCreate {
  projectId: string;
  name: string;
  authUrl: string;
  regionName?: string | null;
  interface: string;
  applicationCredentialId: string;
  /** Already encrypted. */
  secretEnc: string;
}

export async function createTenantSite(db: Knex, v: TenantSiteCreate): Promise<SiteRow> {
  const now = new Date();
  const id = randomUUID();
  try {
    await db('sites').insert({
      id,
      project_id: v.projectId,
      name: v.name,
      auth_url: v.authUrl,
      region_name: v.regionName ?? null,
      interface: v.interface,
      application_credential_id: v.applicationCredentialId,
      application_credential_secret_enc: v.secretEnc,
      created_at: now,
      updated_at: now,
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new DragonError(409, `A site named "${v.name}" already exists in this project.`);
    throw err;
  }
  return (await findTenantSite(db, v.projectId, v.name))!;
}

export async function deleteTenantSite(db: Knex, projectId: string, name: string): Promise<void> {
  const n = await db('sites').where({ project_id: projectId, name }).delete();
  if (n === 0) throw new DragonError(404, `Site ${name} could not be found.`);
}
