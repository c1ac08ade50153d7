/** Request bodies of protect and checkpoint actions. */
export const protectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    protect: {
      type: 'object',
      additionalProperties: false,
      properties: { consistency: { enum: ['none', 'paused'] } },
    },
  },
};

export interface ProtectBody {
  protect?: { consistency?: 'none' | 'paused' };
}
