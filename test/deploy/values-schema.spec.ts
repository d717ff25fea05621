/**
 * helm/agentmon/values.schema.json against the chart's own values, the example value files in
 * helm/agentmon/ci/, and values that must be refused (fixtures/bad-values.yaml).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { CHART_CI_DIR, FIXTURES_DIR } from './support/paths.js';
import { chartSchema, defaultValues, mergeValues, readYaml, validateValues, type Values } from './support/values.js';

const ciFiles = readdirSync(CHART_CI_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(CHART_CI_DIR, f));

interface BadCase {
  name: string;
  expect: string;
  values: Values;
}
const badCases = readYaml(path.join(FIXTURES_DIR, 'bad-values.yaml')) as BadCase[];
const devValues = readYaml(path.join(CHART_CI_DIR, 'dev-values.yaml')) as Values;

describe('values.schema.json', () => {
  it('is a valid draft-07 schema that ajv compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema(chartSchema())).toBe(true);
    expect(() => ajv.compile(chartSchema())).not.toThrow();
    expect(chartSchema().$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('closes every object it describes (additionalProperties set), except Kubernetes objects passed through', () => {
    const open: string[] = [];
    const passThrough = new Set(['#/definitions/k8sObject']);
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      const s = node as Record<string, unknown>;
      if (s.type === 'object' && !passThrough.has(at) && s.additionalProperties === undefined) open.push(at);
      for (const [k, v] of Object.entries(s)) walk(v, `${at}/${k}`);
    };
    walk(chartSchema(), '#');
    expect(open).toEqual([]);
  });

  it('accepts the chart defaults', () => {
    expect(validateValues(defaultValues())).toEqual([]);
  });

  it('has example value files to check', () => {
    expect(ciFiles.map((f) => path.basename(f)).sort()).toEqual(
      expect.arrayContaining(['dev-values.yaml', 'existing-secret-values.yaml', 'production-values.yaml']),
    );
  });

  it.each(ciFiles.map((f) => [path.basename(f), f]))('accepts %s merged over the defaults', (_name, file) => {
    expect(validateValues(mergeValues(defaultValues(), readYaml(file) as Values))).toEqual([]);
  });

  it('has cases that must be refused', () => {
    expect(badCases.length).toBeGreaterThanOrEqual(5);
  });

  it.each(badCases.map((c) => [c.name, c] as const))('refuses %s', (_name, c) => {
    const errors = validateValues(mergeValues(mergeValues(defaultValues(), devValues), c.values));
    expect(errors.join('\n')).toContain(c.expect);
  });

  it('refuses values that are not merged from values.yaml (a required section missing)', () => {
    const { postgresql: _dropped, ...rest } = mergeValues(defaultValues(), devValues);
    expect(validateValues(rest).join('\n')).toContain("must have required property 'postgresql'");
  });
});
