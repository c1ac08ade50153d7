/** Request bodies of /v1/recoveries. */
const stringMap = { type: 'object', additionalProperties: { type: 'string', minLength: 1, maxLength: 255 } };

export const mappingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    networks: stringMap,
    external_network: { type: 'string', minLength: 1, maxLength: 255 },
    flavors: stringMap,
    availability_zones: stringMap,
    volume_types: stringMap,
    key_pairs: stringMap,
    images: stringMap,
    volumes: stringMap,
  },
};

export const createRecoverySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['recovery'],
  properties: {
    recovery: {
      type: 'object',
      additionalProperties: false,
      required: ['checkpoint', 'site'],
      properties: {
        checkpoint: { type: 'string', minLength: 1, maxLength: 255 },
        site: { type: 'string', minLength: 1, maxLength: 255 },
        bank_site: { type: 'string', minLength: 1, maxLength: 255 },
        bank_account: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-]+$' },
        // Heat's stack name rule.
        stack_name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z][a-zA-Z0-9_.-]*$' },
        mapping: mappingSchema,
        on_failure: { enum: ['rollback', 'keep'] },
        dry_run: { type: 'boolean' },
        drill: { type: 'boolean' },
      },
    },
  },
};

export interface CreateRecoveryBody {
  recovery: {
    checkpoint: string;
    site: string;
    bank_site?: string;
    bank_account?: string;
    stack_name?: string;
    mapping?: Record<string, unknown>;
    on_failure?: 'rollback' | 'keep';
    dry_run?: boolean;
    drill?: boolean;
  };
}

export const failbackSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: 'string', maxLength: 1024 },
        backup_site: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
  },
};

export interface FailbackBody {
  policy?: { name?: string; description?: string; backup_site?: string };
}
