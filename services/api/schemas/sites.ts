/** Request bodies of /v1/sites (api-v1.md "Sites"). */
import { NOT_BLANK } from '../validation.js';

export const createSiteSchema = {
  type: 'object',
  required: ['site'],
  additionalProperties: false,
  properties: {
    site: {
      type: 'object',
      required: ['name', 'auth_url', 'application_credential_id', 'application_credential_secret'],
      additionalProperties: false,
      properties: {
        // Used in URLs and config-like references: no slashes or blanks.
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
        auth_url: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^https?://\\S+$' },
        region_name: { type: ['string', 'null'], maxLength: 255 },
        interface: { enum: ['public', 'internal', 'admin'] },
        application_credential_id: { type: 'string', minLength: 1, maxLength: 255, pattern: NOT_BLANK },
        application_credential_secret: { type: 'string', minLength: 1, maxLength: 4096 },
      },
    },
  },
};

export interface CreateSiteBody {
  site: {
    name: string;
    auth_url: string;
    region_name?: string | null;
    interface?: 'public' | 'internal' | 'admin';
    application_credential_id: string;
    application_credential_secret: string;
  };
}
