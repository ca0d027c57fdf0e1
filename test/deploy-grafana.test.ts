import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fixturePath, repoRoot } from '@nextlong/testing';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * The shipped Grafana dashboards validate against Grafana's published dashboard JSON Schema
 * (test/fixtures/grafana-schema/, with provenance): the dashboard itself, each panel's options
 * against its panel plugin's schema, and each Prometheus query against the data-query schema.
 */

const schema = (name: string) =>
  JSON.parse(readFileSync(fixturePath(path.join('grafana-schema', `${name}.jsonschema.json`)), 'utf8')) as object;

const ajv = new Ajv({ allErrors: true, strict: false });
// the only format the schemas use; an RFC 3339 timestamp
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
for (const name of ['dashboard', 'timeseries', 'stat', 'bargauge', 'prometheus']) ajv.addSchema(schema(name), name);

const validator = (ref: string): ValidateFunction => ajv.compile({ $ref: ref });
const dashboardSchema = validator('dashboard');
const panelOptions: Record<string, ValidateFunction> = {
  timeseries: validator('timeseries#/definitions/Options'),
  stat: validator('stat#/definitions/Options'),
  bargauge: validator('bargauge#/definitions/Options'),
};
const panelFieldCustom: Record<string, ValidateFunction> = { timeseries: validator('timeseries#/definitions/FieldConfig') };
const promQuery = validator('prometheus');

const explain = (where: string, errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${where}${e.instancePath}: ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

interface Panel {
  type: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: { datasource?: { type?: string } }[];
  panels?: Panel[];
}

/** Every problem of one dashboard, each naming the file and the JSON path. */
function problemsOf(file: string, dash: { panels?: Panel[] }): string[] {
  const out: string[] = [];
  if (!dashboardSchema(dash)) out.push(...explain(file, dashboardSchema.errors));
  const panels = (dash.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  panels.forEach((p, i) => {
    const where = `${file} panel ${i} "${p.title ?? p.type}"`;
    const options = panelOptions[p.type];
    if (options && p.options !== undefined && !options(p.options)) out.push(...explain(`${where} options`, options.errors));
    const custom = panelFieldCustom[p.type];
    const c = p.fieldConfig?.defaults?.custom;
    if (custom && c !== undefined && !custom(c)) out.push(...explain(`${where} fieldConfig.defaults.custom`, custom.errors));
    for (const t of p.targets ?? []) {
      if (t.datasource?.type === 'prometheus' && !promQuery(t)) out.push(...explain(`${where} target`, promQuery.errors));
    }
    if (p.type !== 'row' && !options) out.push(`${where}: no schema here for panel type "${p.type}" (vendor its jsonschema)`);
  });
  return out;
}

const dashboardsDir = path.join(repoRoot, 'deploy', 'grafana', 'dashboards');
const dashboards = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));

test('there are dashboards to check', () => {
  expect(dashboards.length).toBeGreaterThan(0);
});

test.each(dashboards)('%s validates against the Grafana dashboard and panel schemas', (name) => {
  const dash = JSON.parse(readFileSync(path.join(dashboardsDir, name), 'utf8')) as { panels?: Panel[] };
  expect(problemsOf(`deploy/grafana/dashboards/${name}`, dash)).toEqual([]);
});

test('the schemas reject what Grafana rejects', () => {
  // a template variable with `"current": {}` (no text and value), a panel option of the wrong type
  const dash = {
    schemaVersion: 39,
    annotations: { list: [] },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', current: {} }] },
    panels: [{ type: 'stat', title: 's', gridPos: { x: 0, y: 0, w: 4, h: 4 }, options: { graphMode: 'sideways' } }],
  };
  const problems = problemsOf('sample.json', dash).join('\n');
  expect(problems).toMatch(/sample\.json\/templating\/list\/0\/current: must have required property 'text'/);
  expect(problems).toMatch(/sample\.json panel 0 "s" options\/graphMode: must be equal to one of the allowed values/);
});
