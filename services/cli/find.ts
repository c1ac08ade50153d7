import type { DragonClient } from './client.js';
import { HttpError } from './http.js';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export interface Policy {
  id: string;
  name: string;
  [key: string]: unknown;
}

/**
 * Find a policy by ID or name, like OSC's find_resource: an id that exists
 * wins; otherwise exactly one policy must carry the name.
 */
export async function findPolicy(client: DragonClient, nameOrId: string): Promise<Policy> {
  if (UUID.test(nameOrId)) {
    try {
      const { policy } = await client.get<{ policy: Policy }>(`/v1/policies/${encodeURIComponent(nameOrId)}`);
      return policy;
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    }
  }
  const found = await client.list<Policy>('/v1/policies', 'policies', { name: nameOrId });
  // A server may match names loosely; only an exact name counts.
  const exact = found.filter((p) => p.name === nameOrId);
  if (exact.length > 1) {
    throw new Error(`More than one policy exists with the name '${nameOrId}'.`);
  }
  if (exact.length === 0) throw new Error(`No policy with a name or ID of '${nameOrId}' exists.`);
  return exact[0];
}
