import t from 'tap'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import { cpSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { escapeData, escapeProperty, formatGithub } from '../src/reporters/index'
import { FINGERPRINT_KEY, GITHUB_ANNOTATIONS_PER_RULE } from '../src/constants'
import type { Finding, Report } from '../src/types'
import { FIXTURES, runCapture, tempDir } from './helpers'

// The final OASIS SARIF 2.1.0 JSON schema (sarif-schema-2.1.0.json, draft-07), as Datadog's SARIF
// upload plugin ships it on npm to validate uploads. Its `exports` map hides the file, so it is
// found next to the package.json.
const SARIF_SCHEMA_FILE = join(dirname(require.resolve('@datadog/datadog-ci-plugin-sarif/package.json')), 'dist/json-schema/sarif-schema-2.1.0.json')
const SARIF_SCHEMA = JSON.parse(readFileSync(SARIF_SCHEMA_FILE, 'utf8'))

function project (t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t)
  cpSync(join(FIXTURES, 'project'), dir, { recursive: true })
  return dir
}

for (const format of ['stylish', 'json', 'github', 'sarif'] as const) {
  t.test(`${format} output is stable (snapshot)`, async (t) => {
    const dir = project(t)
    const first = runCapture(['--all', '--format', format], dir)
    const second = runCapture(['--all', '--format', format], dir)
    t.equal(first.exitCode, 1)
    t.equal(first.stdout, second.stdout, 'deterministic')
    t.equal(first.stderr, 'o11y-gate: checked 3 files (all files under .): 7 errors, 0 warnings\n', 'diagnostics go to stderr')
    t.matchSnapshot(first.stdout)
  })
}

t.test('clean stylish output', async (t) => {
  const dir = tempDir(t, { 'a.ts': 'export const a = 1\n' })
  const r = runCapture(['--all'], dir)
  t.equal(r.exitCode, 0)
  t.equal(r.stdout, 'No problems in 1 file.\nRoute handlers checked: 0.\n')
})

t.test('sarif validates against the SARIF 2.1.0 schema and carries fingerprints', async (t) => {
  t.equal(SARIF_SCHEMA.$schema, 'http://json-schema.org/draft-07/schema#', 'the final schema (draft-07), not a pre-release draft')
  t.match(SARIF_SCHEMA.$id, /\/sarif-schema-2\.1\.0\.json$/)
  t.match(SARIF_SCHEMA.title, /SARIF\) Version 2\.1\.0 JSON Schema/)
  // strict: false because the schema lists `required` names it defines only in sibling branches.
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(SARIF_SCHEMA)
  const dir = project(t)
  const r = runCapture(['--all', '--format', 'sarif'], dir)
  const log = JSON.parse(r.stdout)
  t.ok(validate(log), JSON.stringify(validate.errors))
  const results = log.runs[0].results
  t.equal(results.length, 7)
  t.ok(results.every((x: { partialFingerprints: Record<string, string> }) => /^[0-9a-f]{32}$/.test(x.partialFingerprints[FINGERPRINT_KEY] ?? '')))
  t.equal(results[1].locations[0].physicalLocation.artifactLocation.uri, 'src/odd%2Cname%3Afile.ts')
  t.ok(results.every((x: { ruleIndex: number, ruleId: string }) => log.runs[0].tool.driver.rules[x.ruleIndex].id === x.ruleId))
  // the schema is not a rubber stamp
  t.notOk(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }))
  t.notOk(validate({ ...log, runs: [{ ...log.runs[0], results: [{ ...results[0], level: 'fatal' }] }] }))
  const region = results[0].locations[0].physicalLocation.region
  const badRegion = { ...results[0], locations: [{ physicalLocation: { ...results[0].locations[0].physicalLocation, region: { ...region, startLine: 0 } } }] }
  t.notOk(validate({ ...log, runs: [{ ...log.runs[0], results: [badRegion] }] }), 'lines start at 1')
  const clean = runCapture(['--all', '--format', 'sarif'], tempDir(t, { 'a.ts': 'export {}\n' }))
  t.ok(validate(JSON.parse(clean.stdout)), 'an empty run is valid too')
})

t.test('github: workflow-command escaping', async (t) => {
  t.equal(escapeData('100% done\r\nnext'), '100%25 done%0D%0Anext')
  t.equal(escapeProperty('a,b:c%d\ne'), 'a%2Cb%3Ac%25d%0Ae')
  const dir = project(t)
  const lines = runCapture(['--all', '--format', 'github'], dir).stdout.split('\n')
  const promo = lines.find((l) => l.includes('50%25-off'))
  t.match(promo, /^::error file=src\/routes\/orders\.ts,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=o11y-gate route-instrumented::route handler GET \/api\/50%25-off%0D%0Apromo has no tracing/)
  t.ok(lines.some((l) => l.startsWith('::error file=src/odd%2Cname%3Afile.ts,line=2,col=3,')), 'properties escape , and :')
  t.notOk(lines.slice(0, -1).some((l) => l === '' || /\r/.test(l)), 'one annotation per line')
})

t.test(`github: at most ${GITHUB_ANNOTATIONS_PER_RULE} annotations per rule, then a summary line`, async (t) => {
  const finding = (i: number, ruleId: Finding['ruleId']): Finding => ({
    ruleId, severity: i % 2 === 0 ? 'error' : 'warning', file: 'a.ts', line: i + 1, column: 1, endLine: i + 1, endColumn: 2,
    message: `m${i}`, fix: 'f', fingerprint: String(i)
  })
  const findings = [...Array.from({ length: 13 }, (_, i) => finding(i, 'no-console')), finding(20, 'error-observed')]
  const report: Report = { findings, handlers: [], filesChecked: 1, suppressed: 0, baselined: 0 }
  const lines = formatGithub(report).trimEnd().split('\n')
  t.equal(lines.length, 12)
  t.equal(lines.filter((l) => l.includes('file=a.ts') && l.includes('title=o11y-gate no-console::')).length, 10)
  t.match(lines[1], /^::warning /, 'warnings are ::warning')
  t.equal(lines[11], '::warning title=o11y-gate no-console::3 more no-console findings not annotated (10 per rule); see the SARIF upload or run o11y-gate locally')
  t.equal(formatGithub({ ...report, findings: [] }), '')
})

t.test('several formats in one run: files and stdout', async (t) => {
  const dir = project(t)
  const r = runCapture(['--all', '--format', 'github', '--format', 'sarif=out/o11y.sarif,json=out/o11y.json'], dir)
  t.equal(r.exitCode, 1)
  t.match(r.stdout, /^::error /)
  t.equal(JSON.parse(readFileSync(join(dir, 'out/o11y.sarif'), 'utf8')).version, '2.1.0')
  t.equal(JSON.parse(readFileSync(join(dir, 'out/o11y.json'), 'utf8')).summary.errors, 7)
  const o = runCapture(['--all', '--format', 'json', '--output', 'report.json'], dir)
  t.equal(o.stdout, '')
  t.equal(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).findings.length, 7)
  const dup = runCapture(['--all', '--format', 'json=x.out', '--format', 'sarif=x.out'], dir)
  t.equal(dup.exitCode, 2)
  t.match(dup.stderr, /O11Y_ERR_GATE_USAGE: two formats would write to the same file/)
  const bad = runCapture(['--all', '--format', 'xml'], dir)
  t.equal(bad.stderr, 'o11y-gate: O11Y_ERR_GATE_USAGE: unknown format "xml" (use stylish, json, github, sarif)\n')
  t.equal(runCapture(['--all', '--format', 'json='], dir).exitCode, 2)
  const unwritable = runCapture(['--all', '--format', 'json=package.json/x.json'], dir)
  t.equal(unwritable.exitCode, 2)
  t.match(unwritable.stderr, /^o11y-gate: O11Y_ERR_GATE_OUTPUT: cannot write package.json\/x.json: E/)
})
