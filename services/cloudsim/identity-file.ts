/**
 * Keeps the simulator's identity store (projects, users, roles, trusts,
 * application credentials, ...) in a JSON file, so the quickstart's demo
 * project keeps its id across restarts and Dragon's rows stay visible.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IdentityStore } from './store.js';

const MAPS = [
  'domains',
  'projects',
  'users',
  'roles',
  'applicationCredentials',
  'trusts',
  'regions',
  'services',
  'endpoints',
  'revokedAuditIds',
] as const;

export function saveIdentity(store: IdentityStore, file: string): void {
  const data: Record<string, unknown> = {
    assignments: store.assignments,
    adminProjectId: store.adminProjectId ?? null,
    impliedRoles: [...store.impliedRoles].map(([k, v]) => [k, [...v]]),
  };
  for (const m of MAPS) data[m] = [...(store[m] as Map<string, unknown>)];
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
  renameSync(tmp, file);
}

/** Fills an empty store from the file; returns false when there is no file yet. */
export function loadIdentity(store: IdentityStore, file: string): boolean {
  if (!existsSync(file)) return false;
  const data = JSON.parse(readFileSync(file, 'utf8'));
  for (const m of MAPS) {
    const map = store[m] as Map<string, unknown>;
    map.clear();
    for (const [k, v] of data[m] ?? []) map.set(k, v);
  }
  store.impliedRoles.clear();
  for (const [k, v] of data.impliedRoles ?? []) store.impliedRoles.set(k, new Set(v));
  store.assignments = data.assignments ?? [];
  store.adminProjectId = data.adminProjectId ?? undefined;
  return true;
}
