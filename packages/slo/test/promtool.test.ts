import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requireTool } from '@o11y/test-utils'
import { generateFiles, parseSpec, writeFiles } from '../src/index'
import { DEPLOY_DIR, VALID_SPEC, tempDir } from './helpers'

const promtool = requireTool('promtool')

function run (args: string[], cwd: string): { status: number | null, output: string } {
  const res = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 280_000 })
  if (res.error) throw res.error
  return { status: res.status, output: `${res.stdout}${res.stderr}` }
}

/** A second spec that exercises the other options: job selector, custom buckets, an integer bound, 4w, no guard, a 90% objective. */
const OTHER_SPEC = `version: 1
service: shop
window: 4w
selectorLabel: job
buckets: [0.1, 0.3, 1, 3]
minRequests: 0
slos:
  - name: availability
    sli: availability
    objective: 90
  - name: search-latency
    sli: latency
    route: /api/search
    method: GET
    threshold: 1
    objective: 99
`

t.test('the checked-in order-service rules pass promtool check rules', { skip: promtool.skip }, async (t) => {
  const res = run(['check', 'rules', 'prometheus/rules/slo-order-service.yml'], DEPLOY_DIR)
  t.equal(res.status, 0, res.output)
  t.match(res.output, 'SUCCESS: 45 rules found')
})

// The checked-in order-service rule tests (deploy/prometheus/tests/slo-order-service.test.yml, the
// generator's output as test/generate.test.ts proves) run under promtool in deploy/test/rules.test.ts,
// with every other rule test of the stack: about 25 s of CPU, not spent twice.

t.test('rules and tests generated from another spec pass promtool too', { skip: promtool.skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir()
  writeFiles(dir, generateFiles(parseSpec(OTHER_SPEC)))
  const check = run(['check', 'rules', 'prometheus/rules/slo-shop.yml'], dir)
  t.equal(check.status, 0, check.output)
  t.match(check.output, 'SUCCESS: 30 rules found')
  const test = run(['test', 'rules', 'prometheus/tests/slo-shop.test.yml'], dir)
  t.equal(test.status, 0, test.output)
})

t.test('the generated tests catch a wrong rule: a page threshold twice too high fails them', { skip: promtool.skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir()
  const spec = parseSpec(VALID_SPEC.replace(/ {2}- name: search-latency[\s\S]*$/, ''))
  writeFiles(dir, generateFiles(spec))
  const rulesFile = join(dir, 'prometheus/rules/slo-shop.yml')
  const rules = readFileSync(rulesFile, 'utf8')
  t.equal(rules.split('> 0.0144\n').length - 1, 2, 'the page-fast-burn threshold appears in both windows')
  writeFileSync(rulesFile, rules.replaceAll('> 0.0144\n', '> 0.0288\n'))
  const res = run(['test', 'rules', 'prometheus/tests/slo-shop.test.yml'], dir)
  t.equal(res.status, 1, 'promtool test rules fails')
  t.match(res.output, 'availability: a 15.84x burn (0.01584 errors) for 1h: page-fast-burn (page at 14.4x over 1h and 5m) fires')
  t.match(res.output, /long_window="1h"/)
})

t.test('the generated tests catch a missing guard', { skip: promtool.skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir()
  const spec = parseSpec(VALID_SPEC.replace(/ {2}- name: search-latency[\s\S]*$/, ''))
  writeFiles(dir, generateFiles(spec))
  const rulesFile = join(dir, 'prometheus/rules/slo-shop.yml')
  const rules = readFileSync(rulesFile, 'utf8')
  writeFileSync(rulesFile, rules.replace(/\n\s+and on \(\)\n\s+sum\(increase\(http_requests_total\{service="shop"\}\[1h\]\)\) >= 100/, ''))
  const res = run(['test', 'rules', 'prometheus/tests/slo-shop.test.yml'], dir)
  t.equal(res.status, 1, 'promtool test rules fails')
  t.match(res.output, 'half the requests fail but only 50 requests in 1h (guard: 100): nothing fires')
})

t.test('the generated tests catch a page without its short window: it would not clear after recovery', { skip: promtool.skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir()
  const spec = parseSpec(VALID_SPEC.replace(/ {2}- name: search-latency[\s\S]*$/, ''))
  writeFiles(dir, generateFiles(spec))
  const rulesFile = join(dir, 'prometheus/rules/slo-shop.yml')
  const rules = readFileSync(rulesFile, 'utf8')
  const shortCondition = /\n\s+and\n\s+slo:sli_error:ratio_rate5m\{service="shop",slo="availability"\} > 0\.0144/
  t.match(rules, shortCondition)
  writeFileSync(rulesFile, rules.replace(shortCondition, ''))
  const res = run(['test', 'rules', 'prometheus/tests/slo-shop.test.yml'], dir)
  t.equal(res.status, 1, 'promtool test rules fails')
  t.match(res.output, '10m after the errors stop the 5m window clears it')
  t.match(res.output, /alertname: ShopAvailabilityBudgetBurn, time: 1h10m,/)
})
