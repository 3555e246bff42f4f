import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_BUCKETS, DOCS_BASE_URL, ERROR_CODES, SloError, defaultRunbookUrl, loadSpec, parseSpec, validateSpec } from '../src/index'
import { ORDER_SERVICE_SPEC, REPO_ROOT, VALID_SPEC, tempDir } from './helpers'

/** Parse `text` and return the SloError it throws (fails the test when nothing is thrown). */
function errorOf (t: Test, text: string): SloError {
  try {
    parseSpec(text, 'spec.yaml')
  } catch (err) {
    t.type(err, SloError)
    return err as SloError
  }
  t.fail('expected the spec to be rejected')
  throw new Error('not rejected')
}

t.test('a valid spec gets its defaults and derived ratios', async (t) => {
  const spec = parseSpec(VALID_SPEC)
  t.equal(spec.service, 'shop')
  t.equal(spec.window, '28d')
  t.equal(spec.windowDays, 28)
  t.equal(spec.selectorLabel, 'service')
  t.same(spec.buckets, DEFAULT_BUCKETS)
  const [availability, latency] = spec.slos
  t.equal(availability?.objectiveRatio, 0.999)
  t.equal(availability?.errorBudget, 0.001, 'no floating-point noise such as 0.0009999999999999432')
  t.equal(availability?.minRequests, 100)
  t.equal(availability?.route, undefined)
  t.equal(latency?.threshold, 0.5)
  t.equal(latency?.errorBudget, 0.01)
  t.equal(latency?.method, 'GET')
})

t.test('window defaults to 30d; weeks are converted to days; minRequests per SLO overrides the spec', async (t) => {
  const spec = parseSpec(VALID_SPEC.replace('window: 28d\n', 'minRequests: 7\n').replace('    objective: 99\n', '    objective: 99\n    minRequests: 0\n'))
  t.equal(spec.window, '30d')
  t.equal(spec.slos[0]?.minRequests, 7)
  t.equal(spec.slos[1]?.minRequests, 0)
  t.equal(parseSpec(VALID_SPEC.replace('28d', '4w')).window, '28d')
})

t.test('the order service spec is valid', async (t) => {
  const spec = loadSpec(ORDER_SERVICE_SPEC)
  t.equal(spec.service, 'order-service')
  t.same(spec.slos.map((slo) => [slo.name, slo.sli, slo.objective, slo.route ?? '', slo.method ?? '']), [
    ['availability', 'availability', 99.9, '', ''],
    ['get-order-latency', 'latency', 95, '/api/orders/:id', 'GET'],
    ['checkout-availability', 'availability', 99.5, '/api/orders/:id/checkout', 'POST']
  ])
})

t.test('O11Y_ERR_SLO_SPEC_READ: a missing file', async (t) => {
  const file = join(tempDir(), 'nope.yaml')
  t.throws(() => loadSpec(file), { code: ERROR_CODES.SPEC_READ, file, message: /@o11y\/slo: .*nope\.yaml: cannot read the spec file/ })
})

t.test('O11Y_ERR_SLO_SPEC_YAML: broken YAML names the line', async (t) => {
  const err = errorOf(t, 'version: 1\nservice: [shop\n')
  t.equal(err.code, 'O11Y_ERR_SLO_SPEC_YAML')
  t.match(err.message, /^@o11y\/slo: spec\.yaml: not valid YAML: .* at line \d+, column \d+/)
})

t.test('O11Y_ERR_SLO_MISSING_FIELD names the missing field', async (t) => {
  let err = errorOf(t, VALID_SPEC.replace('service: shop\n', ''))
  t.equal(err.code, 'O11Y_ERR_SLO_MISSING_FIELD')
  t.equal(err.path, 'service')
  t.match(err.message, 'spec.yaml: service: required field "service" is missing')

  err = errorOf(t, VALID_SPEC.replace('    objective: 99\n', ''))
  t.equal(err.code, 'O11Y_ERR_SLO_MISSING_FIELD')
  t.equal(err.path, 'slos[1].objective')

  err = errorOf(t, VALID_SPEC.replace('    threshold: 0.5\n', ''))
  t.equal(err.code, 'O11Y_ERR_SLO_MISSING_FIELD', 'a latency SLI without a threshold')
  t.equal(err.path, 'slos[1].threshold')
  t.match(err.message, /latency SLI needs a "threshold"/)
})

t.test('O11Y_ERR_SLO_UNKNOWN_FIELD: typos and a threshold on an availability SLI', async (t) => {
  let err = errorOf(t, VALID_SPEC.replace('window: 28d', 'windw: 28d'))
  t.equal(err.code, 'O11Y_ERR_SLO_UNKNOWN_FIELD')
  t.equal(err.path, 'windw')

  err = errorOf(t, VALID_SPEC.replace('    objective: 99.9\n', '    objective: 99.9\n    treshold: 1\n'))
  t.equal(err.code, 'O11Y_ERR_SLO_UNKNOWN_FIELD')
  t.equal(err.path, 'slos[0].treshold')

  err = errorOf(t, VALID_SPEC.replace('    objective: 99.9\n', '    objective: 99.9\n    threshold: 1\n'))
  t.equal(err.code, 'O11Y_ERR_SLO_UNKNOWN_FIELD')
  t.equal(err.path, 'slos[0].threshold')
  t.match(err.message, /only applies to latency SLIs/)
})

t.test('O11Y_ERR_SLO_INVALID_FIELD: wrong types, enums, patterns', async (t) => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['version: 1', 'version: 2', 'version', /must be 1/],
    ['service: shop', 'service: Shop Front', 'service', /must match pattern/],
    ['    sli: latency', '    sli: speed', 'slos[1].sli', /must be one of "availability", "latency"/],
    ['    method: GET', '    method: get', 'slos[1].method', /must be one of "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "QUERY"/],
    ['    route: /api/search', '    route: api/search', 'slos[1].route', /must match pattern "\^\/"/],
    ['    objective: 99.9', '    objective: high', 'slos[0].objective', /must be number/],
    ['  - name: availability', '  - name: Availability!', 'slos[0].name', /must match pattern/]
  ]
  for (const [from, to, path, message] of cases) {
    const err = errorOf(t, VALID_SPEC.replace(from, to))
    t.equal(err.code, 'O11Y_ERR_SLO_INVALID_FIELD', `${to}: code`)
    t.equal(err.path, path, `${to}: path`)
    t.match(err.message, message, `${to}: message`)
  }
  const err = errorOf(t, '')
  t.equal(err.code, 'O11Y_ERR_SLO_INVALID_FIELD', 'an empty file')
  t.equal(err.path, '(root)')
  t.equal(errorOf(t, 'version: 1\nservice: shop\nslos: []\n').path, 'slos', 'at least one SLO')
})

t.test('O11Y_ERR_SLO_OBJECTIVE: out of range, with a hint for ratios', async (t) => {
  let err = errorOf(t, VALID_SPEC.replace('objective: 99.9', 'objective: 0.999'))
  t.equal(err.code, 'O11Y_ERR_SLO_OBJECTIVE')
  t.equal(err.path, 'slos[0].objective')
  t.match(err.message, 'it is a percentage: write 99.9 rather than 0.999')
  err = errorOf(t, VALID_SPEC.replace('objective: 99.9', 'objective: 100'))
  t.equal(err.code, 'O11Y_ERR_SLO_OBJECTIVE')
  t.notMatch(err.message, 'percentage: write')
  t.equal(errorOf(t, VALID_SPEC.replace('objective: 99.9', 'objective: -5')).code, 'O11Y_ERR_SLO_OBJECTIVE')
})

t.test('O11Y_ERR_SLO_WINDOW: not whole days or weeks, or out of range', async (t) => {
  t.equal(errorOf(t, VALID_SPEC.replace('28d', '30')).code, 'O11Y_ERR_SLO_INVALID_FIELD', 'a number is not a window')
  for (const window of ['"30"', '1h', '2d', '400d', '0d', '1.5d']) {
    const err = errorOf(t, VALID_SPEC.replace('28d', window))
    t.equal(err.code, 'O11Y_ERR_SLO_WINDOW', window)
    t.equal(err.path, 'window')
  }
})

t.test('O11Y_ERR_SLO_BUCKETS: bounds must increase', async (t) => {
  const err = errorOf(t, VALID_SPEC.replace('window: 28d', 'buckets: [0.1, 0.5, 0.5, 1]'))
  t.equal(err.code, 'O11Y_ERR_SLO_BUCKETS')
  t.equal(err.path, 'buckets[2]')
  t.equal(errorOf(t, VALID_SPEC.replace('window: 28d', 'buckets: [0, 1]')).path, 'buckets[0]')
})

t.test('O11Y_ERR_SLO_THRESHOLD: a latency threshold must be a bucket bound', async (t) => {
  const err = errorOf(t, VALID_SPEC.replace('threshold: 0.5', 'threshold: 0.3'))
  t.equal(err.code, 'O11Y_ERR_SLO_THRESHOLD')
  t.equal(err.path, 'slos[1].threshold')
  t.match(err.message, 'threshold 0.3s is not a bucket bound of http_request_duration_seconds; use one of 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5')

  t.equal(errorOf(t, VALID_SPEC.replace('window: 28d', 'buckets: [0.1, 1, 3]')).code, 'O11Y_ERR_SLO_THRESHOLD', '0.5 is not among custom buckets')
  const custom = parseSpec(VALID_SPEC.replace('window: 28d', 'buckets: [0.1, 0.3, 3]').replace('threshold: 0.5', 'threshold: 0.3'))
  t.equal(custom.slos[1]?.threshold, 0.3, 'a custom bucket bound is accepted')
})

t.test('O11Y_ERR_SLO_DUPLICATE_NAME: names are unique within a spec', async (t) => {
  const err = errorOf(t, VALID_SPEC.replace('name: search-latency', 'name: availability'))
  t.equal(err.code, 'O11Y_ERR_SLO_DUPLICATE_NAME')
  t.equal(err.path, 'slos[1].name')
  t.match(err.message, 'already used by slos[0]')
})

t.test('validateSpec takes an object and reports without a file name', async (t) => {
  t.throws(() => validateSpec({ version: 1, service: 'x' }), { code: 'O11Y_ERR_SLO_MISSING_FIELD', message: '@o11y/slo: slos: required field "slos" is missing' })
})

t.test('every error code is documented in docs/errors.md and the README', async (t) => {
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8')
  const section = docs.slice(docs.indexOf('## @o11y/slo'))
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')
  for (const code of Object.values(ERROR_CODES)) {
    t.match(section, `| \`${code}\` |`, `${code} in docs/errors.md`)
    t.match(readme, `| \`${code}\` |`, `${code} in the README`)
  }
})

t.test('runbook links: the project docs by default, O11Y_RUNBOOK_BASE_URL for self-hosted runbooks, a spec runbookUrl over both', async (t) => {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { homepage: string }
  t.equal(DOCS_BASE_URL, `${root.homepage}/blob/main/docs`, 'derived from the root package.json homepage')
  t.equal(defaultRunbookUrl({}), `${root.homepage}/blob/main/docs/slo.md`)
  t.equal(defaultRunbookUrl({ O11Y_RUNBOOK_BASE_URL: '' }), `${root.homepage}/blob/main/docs/slo.md`, 'empty means unset')
  t.equal(defaultRunbookUrl({ O11Y_RUNBOOK_BASE_URL: 'https://wiki.example.com/runbooks/' }), 'https://wiki.example.com/runbooks/slo.md')
  for (const bad of ['javascript:alert(1)', 'wiki.example.com/runbooks', 'https://wiki.example.com/a b', 'https://w.example.com/?q=1', 'https://w.example.com/#x', `https://w.example.com/${'x'.repeat(100000)} `]) {
    t.throws(() => defaultRunbookUrl({ O11Y_RUNBOOK_BASE_URL: bad }), { code: ERROR_CODES.RUNBOOK_BASE_URL, message: /O11Y_RUNBOOK_BASE_URL must be an http\(s\) URL/ }, bad.slice(0, 40))
  }

  const saved = process.env.O11Y_RUNBOOK_BASE_URL
  t.teardown(() => { if (saved === undefined) delete process.env.O11Y_RUNBOOK_BASE_URL; else process.env.O11Y_RUNBOOK_BASE_URL = saved })
  process.env.O11Y_RUNBOOK_BASE_URL = 'https://runbooks.internal.example.com'
  t.equal(parseSpec(VALID_SPEC).runbookUrl, 'https://runbooks.internal.example.com/slo.md')
  t.equal(parseSpec(VALID_SPEC + 'runbookUrl: https://docs.example.com/our-slos.md\n').runbookUrl, 'https://docs.example.com/our-slos.md', 'the spec wins')
  process.env.O11Y_RUNBOOK_BASE_URL = 'not a url'
  t.throws(() => parseSpec(VALID_SPEC), { code: ERROR_CODES.RUNBOOK_BASE_URL })
})
