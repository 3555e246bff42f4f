import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import * as semconv from '@o11y/semconv'
import { workspacePackages } from '../src/cycles'
import { formatFinding, matcher, namesOf, scanDirs, scannedDirs, scanText } from '../src/names'

const ROOT = resolve(__dirname, '..', '..', '..')
// The names come from the built package, so the list the test looks for cannot drift from it.
const names = namesOf(semconv as unknown as Record<string, unknown>)
const m = matcher(names)

/**
 * Literal copies that stay, each with the reason. Keyed `<file>: <value>` (the value as the
 * finding prints it), not by line, so an edit elsewhere in the file does not move it.
 */
const DEMO_CODES = 'the demo order service (private, never published) has its own O11Y_ERR_ORDERS_ codes; the prefixes of @o11y/semconv are those of the published packages'
const ALLOWED = new Map<string, string>([
  ['apps/order-service/src/errors.ts: O11Y_ERR_ORDERS_CONFIG', DEMO_CODES],
  ['apps/order-service/src/errors.ts: O11Y_ERR_ORDERS_EMBEDDED_DB', DEMO_CODES]
])

t.test('no package copies a name of @o11y/semconv as a literal', async (t) => {
  const dirs = scannedDirs(workspacePackages(ROOT), join(ROOT, 'packages/semconv'))
  for (const expected of ['packages/metrics/src', 'packages/tracing/src', 'packages/logging/src', 'packages/slo/src', 'packages/ci-gate/src', 'deploy/src', 'apps/order-service/src']) {
    t.ok(dirs.includes(join(ROOT, expected)), `${expected} is scanned`)
  }
  t.ok(names.length > 50, `${names.length} names read from the built @o11y/semconv`)
  const all = scanDirs(ROOT, dirs, m)
  const findings = all.filter((f) => !ALLOWED.has(`${f.file}: ${f.value}`)).map(formatFinding)
  t.same(findings, [], findings.length === 0 ? 'no copies' : `literal copies of shared names:\n${findings.join('\n')}`)
  const stale = [...ALLOWED.keys()].filter((k) => !all.some((f) => `${f.file}: ${f.value}` === k))
  t.same(stale, [], 'every allowlist entry still matches a literal (remove the ones that do not)')
})

t.test('the scanner finds a copied name, file and line, and leaves ordinary words alone', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'o11y-names-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const src = join(root, 'packages', 'shop', 'src')
  mkdirSync(join(src, 'fixtures'), { recursive: true })
  writeFileSync(join(src, 'constants.ts'), [
    "import { METRIC_NAMES } from '@o11y/semconv'",
    '// http_requests_total in a comment is documentation, not a copy',
    "export const REQUESTS = 'http_requests_total'",
    'export const QUERY = `sum(rate(http_request_duration_seconds_bucket{route="${METRIC_NAMES.requestsTotal}"}[5m]))`',
    'export const FIELDS = { trace_id: 1, route: 2 }',
    "export const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE'])",
    'export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1]',
    "export const CODE = 'O11Y_ERR_SHOP_BROKEN'",
    "export const WORDS = ['route', 'method', 'GET', 'error', '/api/health', 'service:http_requests:rate5m', 'O11Y_ERR_METRICS_OPTIONS']",
    "export const UNMATCHED = \"__unmatched__\""
  ].join('\n') + '\n')
  // Fixtures are out of scope.
  writeFileSync(join(src, 'fixtures', 'copy.ts'), "export const X = 'http_requests_total'\n")

  const findings = scanDirs(root, [src], m)
  t.same(findings.map(formatFinding), [
    'packages/shop/src/constants.ts:3 "http_requests_total" copies METRIC_NAMES.requestsTotal of @o11y/semconv; import it',
    'packages/shop/src/constants.ts:4 "http_request_duration_seconds_bucket" copies METRIC_NAMES.requestDuration of @o11y/semconv; import it',
    'packages/shop/src/constants.ts:5 "trace_id" copies EXEMPLAR_LABELS.traceId / LOG_FIELDS.traceId of @o11y/semconv; import it',
    'packages/shop/src/constants.ts:6 ["GET", "HEAD", "POST", "PUT", "DELETE"] copies KNOWN_HTTP_METHODS of @o11y/semconv; import it',
    'packages/shop/src/constants.ts:7 [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1] copies DEFAULT_LATENCY_BUCKETS of @o11y/semconv; import it',
    'packages/shop/src/constants.ts:8 "O11Y_ERR_SHOP_BROKEN" starts with no prefix of ERROR_CODE_PREFIXES of @o11y/semconv; use the package\'s prefix (or add it there)',
    'packages/shop/src/constants.ts:10 "__unmatched__" copies UNMATCHED_ROUTE of @o11y/semconv; import it'
  ])

  const allowed = new Map([['packages/shop/src/constants.ts: http_requests_total', 'the test says why']])
  t.notOk(scanDirs(root, [src], m, allowed).some((f) => f.value === 'http_requests_total'), 'an allowed copy is not reported')
})

t.test('namesOf walks the exports: nested objects, lists, numbers', async (t) => {
  const names = namesOf({ A: { b: 'x_y' }, L: ['P', 'Q', 'R'], N: 5, default: 'ignored' })
  t.same(names, [
    { value: 'x_y', exportPath: 'A.b' },
    { value: 'P', exportPath: 'L[0]', list: 'L' },
    { value: 'Q', exportPath: 'L[1]', list: 'L' },
    { value: 'R', exportPath: 'L[2]', list: 'L' },
    { value: 5, exportPath: 'N' }
  ])
  const found = scanText("const a = 'x_y'\nconst b = ['P', 'Q']\nconst c = ['P', 'Q', 'R']\n", 'a.ts', matcher(names))
  t.same(found.map((f) => [f.line, f.value]), [[1, 'x_y'], [3, '["P", "Q", "R"]']], 'two of three list members are not a copy of the list; three are')
})
