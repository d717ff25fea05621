import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { CHART_DIR } from './paths.js';

export type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

/**
 * Merges user values over the chart's defaults the way Helm coalesces them: maps merge key by key,
 * anything else (lists included) replaces, and null deletes the key.
 */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

export function defaultValues(): Values {
  return readYaml(path.join(CHART_DIR, 'values.yaml')) as Values;
}

export function chartSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
}

let compiled: ValidateFunction | undefined;
/** The chart's values.schema.json compiled by ajv (draft-07, strict mode: unknown keywords are errors). */
export function valuesValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(chartSchema());
  }
  return compiled;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** Errors of values (already merged over the defaults) against the schema; empty when valid. */
export function validateValues(values: Values): string[] {
  const validate = valuesValidator();
  return validate(values) ? [] : describeErrors(validate.errors);
}
