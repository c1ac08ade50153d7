/**
 * OS::Heat::RandomString — no API call; the value lives in the resource data.
 * get_resource returns the value itself, like Heat.
 */
import { randomInt } from 'node:crypto';
import type { ResourceType } from './types.js';

const CLASSES: Record<string, string> = {
  lettersdigits: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdef',
  octdigits: '01234567',
};

export const randomString: ResourceType = {
  properties: {
    length: { default: 32 },
    sequence: {},
    character_classes: {},
    character_sequences: {},
    salt: {},
  },
  async create(ctx, props) {
    const length = Number(props.length ?? 32);
    const alphabet = CLASSES[String(props.sequence ?? 'lettersdigits')] ?? CLASSES.lettersdigits;
    let value = '';
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    ctx.data.value = value;
    return `${ctx.stackName}-${ctx.name}-${value.slice(0, 8).toLowerCase()}`;
  },
  async delete() {},
  async attribute(ctx, _id, name) {
    return name === 'value' ? ctx.data.value : undefined;
  },
  referenceId: (ctx) => ctx.data.value ?? '',
};
