/** Request bodies of /v1/policies (api-v1.md "Policy object"). */
import type { PolicyUpdate } from '../../common/objects/policies.js';
import type { Retention, Schedule } from '../../common/schedule.js';
import { NOT_BLANK } from '../validation.js';

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: NOT_BLANK };
const description = { type: 'string', maxLength: 65535 };
/** On update, null clears the description (what `dragon policy unset --description` sends). */
const descriptionOrNull = { type: ['string', 'null'], maxLength: 65535 };
const backupSite = { type: ['string', 'null'], maxLength: 255 };
const primarySite = { type: ['string', 'null'], maxLength: 255 };
/** A cron expression with a time zone, or an interval (checked further by common/schedule.ts). */
const schedule = {
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: {
        cron: { type: 'string', minLength: 1, maxLength: 255 },
        timezone: { type: 'string', maxLength: 64 },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['interval_seconds'],
      properties: { interval_seconds: { type: 'integer', minimum: 60 } },
    },
  ],
};
const retention = {
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        keep_last: { type: 'integer', minimum: 1 },
        max_age_days: { type: 'number', exclusiveMinimum: 0 },
      },
    },
  ],
};

/** Projects that may read the policy's checkpoints (Swift read ACL `<project>:*`). */
const bankReader = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.-]+$' };
const bankReaders = { type: 'array', maxItems: 32, items: bankReader };
const bankReadersOrNull = { type: ['array', 'null'], maxItems: 32, items: bankReader };

export const createPolicySchema = {
  type: 'object',
  required: ['policy'],
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name,
        description,
        backup_site: backupSite,
        primary_site: primarySite,
        schedule,
        retention,
        bank_readers: bankReaders,
      },
    },
  },
};

export const updatePolicySchema = {
  type: 'object',
  required: ['policy'],
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name,
        description: descriptionOrNull,
        backup_site: backupSite,
        primary_site: primarySite,
        schedule,
        retention,
        bank_readers: bankReadersOrNull,
      },
    },
  },
};

export interface CreatePolicyBody {
  policy: {
    name: string;
    description?: string;
    backup_site?: string | null;
    primary_site?: string | null;
    schedule?: Schedule | null;
    retention?: Retention | null;
    bank_readers?: string[];
  };
}

export interface UpdatePolicyBody {
  policy: PolicyUpdate;
}
