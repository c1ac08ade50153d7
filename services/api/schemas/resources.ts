/** Request bodies of /v1/policies/{id}/resources (api-v1.md "Resource object"). */
import type { ResourceAdd, ResourceUpdate } from '../../common/objects/resources.js';

const id = { type: 'string', minLength: 1, maxLength: 255 };
// Heat resource type names: OS::Nova::Server, OS::Cinder::Volume, ...
const heatType = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9]+(::[A-Za-z0-9]+)+$' };
const resourceName = { type: ['string', 'null'], maxLength: 255 };
const action = { type: 'string', minLength: 1, maxLength: 255 };
const options = { type: 'object' };
const required = { type: 'boolean' };

export const addResourceSchema = {
  type: 'object',
  required: ['resource'],
  additionalProperties: false,
  properties: {
    resource: {
      type: 'object',
      required: ['resource_id', 'resource_type', 'action'],
      additionalProperties: false,
      properties: {
        resource_id: id,
        resource_type: heatType,
        action,
        resource_name: resourceName,
        options,
        required,
      },
    },
  },
};

export const updateResourceSchema = {
  type: 'object',
  required: ['resource'],
  additionalProperties: false,
  properties: {
    resource: {
      type: 'object',
      additionalProperties: false,
      properties: { action, resource_name: resourceName, options, required },
    },
  },
};

export interface AddResourceBody {
  resource: ResourceAdd;
}

export interface UpdateResourceBody {
  resource: ResourceUpdate;
}
