/** Request bodies of /v1/policies (api-v1.md "Policy object"). */
import type { PolicyUpdate } from '../../common/objects/policies.js';
import { NOT_BLANK } from '../validation.js';

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: NOT_BLANK };
const description = { type: 'string', maxLength: 65535 };
/** On update, null clears the description (what `dragon policy unset --description` sends). */
const descriptionOrNull = { type: ['string', 'null'], maxLength: 65535 };
const backupSite = { type: ['string', 'null'], maxLength: 255 };

export const createPolicySchema = {
  type: 'object',
  required: ['policy'],
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name, description, backup_site: backupSite },
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
      properties: { name, description: descriptionOrNull, backup_site: backupSite },
    },
  },
};

export interface CreatePolicyBody {
  policy: { name: string; description?: string; backup_site?: string | null };
}

export interface UpdatePolicyBody {
  policy: PolicyUpdate;
}
