/**
 * Request body validation with Ajv. Schemas forbid unknown fields so that a
 * typo fails loudly (400 naming the field) instead of being ignored.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { DragonError } from '../common/errors.js';

/** Schemas use this pattern for names that must contain something besides spaces. */
export const NOT_BLANK = '\\S';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : 'body';
  if (e.keyword === 'additionalProperties') {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    return `Additional properties are not allowed ('${field}' was unexpected) in ${where}.`;
  }
  if (e.keyword === 'required') {
    return `'${(e.params as { missingProperty: string }).missingProperty}' is a required property of ${where}.`;
  }
  if (e.keyword === 'pattern' && (e.params as { pattern: string }).pattern === NOT_BLANK) {
    return `Invalid input for field '${where}': must not be blank.`;
  }
  return `Invalid input for field '${where}': ${e.message}.`;
}

/** Compiles `schema` once; the returned function checks a body and narrows its type, or throws 400. */
export function bodyValidator<T>(schema: Record<string, unknown>): (body: unknown) => T {
  const validate = ajv.compile(schema);
  return (body) => {
    if (body === undefined) throw new DragonError(400, 'A JSON request body is required.');
    if (!validate(body)) throw new DragonError(400, describe(validate.errors![0]));
    return body as T;
  };
}
