import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import {
  BURN_TIERS, RECORDS, buildDashboard, buildRuleTests, buildRules, generateFiles, loadSpec, parseSpec,
  type AlertingRule, type RecordingRule, type Spec
} from '../src/index'
import { exhaustionTime } from '../src/rules'
import { ORDER_SERVICE_SPEC, REPO_ROOT, VALID_SPEC } from './helpers'

const orderService = loadSpec(ORDER_SERVICE_SPEC)

function alerts (spec: Spec, group: number): AlertingRule[] {
  return buildRules(spec).groups[group]?.rules.filter((r): r is AlertingRule => 'alert' in r) ?? []
}
function records (spec: Spec, group: number): RecordingRule[] {
  return buildRules(spec).groups[group]?.rules.filter((r): r is RecordingRule => 'record' in r) ?? []
}

t.test('one rule group per SLO: objective, budget, error ratios over every window, remaining budget, four alert tiers', async (t) => {
  const file = buildRules(orderService)
  t.same(file.groups.map((g) => g.name), ['slo-order-service-availability', 'slo-order-service-get-order-latency', 'slo-order-service-checkout-availability'])
  t.same(records(orderService, 0).map((r) => r.record), [
    'slo:objective:ratio', 'slo:error_budget:ratio',
    'slo:sli_error:ratio_rate5m', 'slo:sli_error:ratio_rate30m', 'slo:sli_error:ratio_rate1h', 'slo:sli_error:ratio_rate2h',
    'slo:sli_error:ratio_rate6h', 'slo:sli_error:ratio_rate1d', 'slo:sli_error:ratio_rate3d', 'slo:sli_error:ratio_rate30d',
    'slo:error_budget_remaining:ratio'
  ])
  for (const rule of records(orderService, 0)) t.same(rule.labels, { service: 'order-service', slo: 'availability', sli: 'availability' })
  t.same(records(orderService, 2)[0]?.labels, { service: 'order-service', slo: 'checkout-availability', sli: 'availability', route: '/api/orders/:id/checkout', method: 'POST' })
  t.equal(records(orderService, 0)[0]?.expr, 'vector(0.999)')
  t.equal(records(orderService, 0)[1]?.expr, 'vector(0.001)')
})

t.test('availability SLI: 5xx share of the service (or its route), zero when there are no 5xx series', async (t) => {
  const [, , fiveMinutes] = records(orderService, 0)
  t.equal(fiveMinutes?.expr, '(sum(rate(http_requests_total{service="order-service",status_code=~"5.."}[5m])) or vector(0))\n/\nsum(rate(http_requests_total{service="order-service"}[5m]))')
  t.match(records(orderService, 2)[4]?.expr, 'http_requests_total{service="order-service",route="/api/orders/:id/checkout",method="POST",status_code=~"5.."}[1h]')
})

t.test('latency SLI: share of requests above the bucket bound', async (t) => {
  const [, , fiveMinutes] = records(orderService, 1)
  t.equal(fiveMinutes?.expr, '1 - (\n  sum(rate(http_request_duration_seconds_bucket{service="order-service",route="/api/orders/:id",method="GET",le="0.25"}[5m]))\n  /\n  sum(rate(http_request_duration_seconds_count{service="order-service",route="/api/orders/:id",method="GET"}[5m]))\n)')
  const spec = parseSpec(VALID_SPEC.replace('threshold: 0.5', 'threshold: 1').replace('window: 28d', 'selectorLabel: job'))
  const expr = records(spec, 1)[2]?.expr ?? ''
  t.match(expr, 'le=~"1|1.0"', 'integer bounds match Prometheus 2 (1) and 3 (1.0) label values')
  t.match(expr, '{job="shop",route="/api/search",method="GET"')
})

t.test('alert tiers: Google SRE Workbook burn rates, windows, severities, guard, annotations', async (t) => {
  const expected = [
    ['critical', '1h', '5m', 0.0144], ['critical', '6h', '30m', 0.006], ['warning', '1d', '2h', 0.003], ['warning', '3d', '6h', 0.001]
  ] as const
  const rules = alerts(orderService, 0)
  t.equal(rules.length, 4)
  rules.forEach((rule, i) => {
    const [severity, long, short, threshold] = expected[i] as typeof expected[number]
    t.equal(rule.alert, 'OrderServiceAvailabilityBudgetBurn')
    t.same(rule.labels, { severity, long_window: long, short_window: short })
    t.equal(rule.expr,
      `(\n  slo:sli_error:ratio_rate${long}{service="order-service",slo="availability"} > ${threshold}\n  and\n` +
      `  slo:sli_error:ratio_rate${short}{service="order-service",slo="availability"} > ${threshold}\n)\n` +
      `and on ()\nsum(increase(http_requests_total{service="order-service"}[${long}])) >= 100`)
    t.equal(rule.annotations.runbook_url, `https://github.com/o11y-fastify/o11y-fastify/blob/main/docs/slo.md#${BURN_TIERS[i]?.id}`, 'the project docs, from the root package.json homepage')
  })
  t.equal(rules[0]?.annotations.summary, 'order-service SLO availability: error budget burning 14.4x too fast over 1h and 5m')
  t.equal(rules[0]?.annotations.description,
    'The availability SLO "availability" of order-service (99.9% of requests to all routes answered without a 5xx over 30d) has had an error ratio above 0.0144 ' +
    '(14.4x its error budget of 0.001) over both the last 1h and 5m. At this rate the 30d budget is gone in about 50h. This pages: act now.')
  t.match(alerts(orderService, 1)[3]?.annotations.description, 'requests to GET /api/orders/:id served within 0.25s over 30d')
  t.match(alerts(orderService, 1)[3]?.annotations.description, 'This is a ticket')
  t.same(alerts(orderService, 2).map((r) => Number(/> ([\d.]+)\n/.exec(r.expr)?.[1])), [0.072, 0.03, 0.015, 0.005], 'checkout 99.5%: budget 0.005')
  t.same(alerts(orderService, 1).map((r) => Number(/> ([\d.]+)\n/.exec(r.expr)?.[1])), [0.72, 0.3, 0.15, 0.05], 'latency 95%: budget 0.05')
  t.match(alerts(orderService, 1)[0]?.expr, 'sum(increase(http_request_duration_seconds_count{service="order-service",route="/api/orders/:id",method="GET"}[1h])) >= 100')
})

t.test('minRequests: 0 turns the low-traffic guard off', async (t) => {
  const spec = parseSpec(VALID_SPEC.replace('window: 28d', 'minRequests: 0'))
  for (const rule of alerts(spec, 0)) t.notMatch(rule.expr, 'and on ()')
  t.notOk(buildRuleTests(spec, 'r.yml').tests.some((c) => c.name.includes('guard')), 'no guard case without a guard')
})

t.test('exhaustion time in the description', async (t) => {
  t.same(BURN_TIERS.map((tier) => exhaustionTime(30, tier.burnRate)), ['50h', '5d', '10d', '30d'])
  t.equal(exhaustionTime(28, 14.4), '47h')
  t.equal(exhaustionTime(7, 2), '3d 12h')
})

t.test('every runbook anchor exists in docs/slo.md', async (t) => {
  const slugs = readFileSync(join(REPO_ROOT, 'docs', 'slo.md'), 'utf8').split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'))
  for (const tier of BURN_TIERS) t.ok(slugs.includes(tier.id), `docs/slo.md has a heading for #${tier.id}`)
})

t.test('rule tests: a healthy hour, above and below every tier, the guard', async (t) => {
  const file = buildRuleTests(orderService, '../rules/slo-order-service.yml')
  t.same(file.rule_files, ['../rules/slo-order-service.yml'])
  t.equal(file.tests.length, 3 * 11)
  const checkout = file.tests.filter((c) => c.name.startsWith('checkout-availability:'))
  t.same(checkout.map((c) => c.alert_rule_test[0]?.exp_alerts.map((a) => a.exp_labels.long_window)), [
    [], ['1h', '6h', '1d', '3d'], ['6h', '1d', '3d'], ['6h', '1d', '3d'], ['1d', '3d'], ['1d', '3d'], ['3d'], ['3d'], [], ['1h', '6h', '1d', '3d'], []
  ])
  const recovery = checkout[9]
  t.match(recovery?.name, 'a 28.8x burn for 1h fires page-fast-burn; 10m after the errors stop the 5m window clears it')
  t.same(recovery?.alert_rule_test.map((a) => [a.eval_time, a.exp_alerts.map((e) => e.exp_labels.long_window)]), [
    ['1h', ['1h', '6h', '1d', '3d']], ['70m', ['6h', '1d', '3d']]
  ])
  t.same(recovery?.input_series.map((s) => s.values), ['0+856x60 52360+1000x9', '0+144x60 8640+0x9'], 'bad counter flat after minute 60, good one at the full rate')
  t.same(checkout[1]?.input_series.map((s) => s.series), [
    'http_requests_total{service="order-service",job="order-service",method="POST",route="/api/orders/:id/checkout",status_code="200"}',
    'http_requests_total{service="order-service",job="order-service",method="POST",route="/api/orders/:id/checkout",status_code="500"}'
  ])
  t.same(checkout[1]?.input_series.map((s) => s.values), ['0+920.8x60', '0+79.2x60'], '1.1 x 14.4 x 0.005 = 7.92% errors')
  t.same(checkout[2]?.input_series.map((s) => s.values), ['0+935.2x60', '0+64.8x60'], '0.9 x 14.4 x 0.005 = 6.48% errors')
  t.same(checkout[10]?.input_series.map((s) => s.values), ['0+0.416666666667x60', '0+0.416666666667x60'], '50 requests in an hour, half of them failing')
  const latency = file.tests.find((c) => c.name.startsWith('get-order-latency: a 15.84x'))
  t.same(latency?.input_series.map((s) => s.series), [
    'http_request_duration_seconds_bucket{service="order-service",job="order-service",method="GET",route="/api/orders/:id",status_code="200",le="0.25"}',
    'http_request_duration_seconds_count{service="order-service",job="order-service",method="GET",route="/api/orders/:id",status_code="200"}'
  ])
})

t.test('rule tests skip tiers that cannot fire: objectives below about 93% cannot burn 14.4x', async (t) => {
  const spec = parseSpec(VALID_SPEC.replace('objective: 99.9', 'objective: 90'))
  const names = buildRuleTests(spec, 'r.yml').tests.filter((c) => c.name.startsWith('availability:')).map((c) => c.name)
  t.notOk(names.some((n) => n.includes('page-fast-burn')), 'no page-fast-burn case: 1.44 > 100% errors')
  t.ok(names.some((n) => n.includes('page-slow-burn')))
  t.notOk(names.some((n) => n.includes('10m after')), 'no recovery case: the 1h window cannot stay above 14.4x')
  const latency = buildRuleTests(parseSpec(VALID_SPEC.replace('objective: 99\n', 'objective: 95\n')), 'r.yml').tests.find((c) => c.name.startsWith('search-latency') && c.name.includes('10m after'))
  t.match(latency?.name, 'search-latency: a 20x burn for 1h', 'the burn is capped at 100% bad requests')
})

t.test('dashboard: variables service and route, every panel query uses only them and recorded series', async (t) => {
  const dashboard = buildDashboard(orderService)
  t.equal(dashboard.uid, 'slo-order-service')
  t.same(dashboard.templating.list.map((v) => v.name), ['datasource', 'service', 'route'])
  const recorded = new Set([RECORDS.objective, RECORDS.errorBudget, RECORDS.budgetRemaining, ...['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map(RECORDS.errorRatio)])
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((target) => target.expr)
  t.ok(exprs.length >= 10)
  for (const expr of exprs) {
    const variables = expr.match(/\$\{?\w+/g) ?? []
    t.same([...new Set(variables)].sort(), ['$route', '$service'], `${expr}: only $service and $route`)
    for (const name of expr.match(/slo:[a-z_]+:[a-z0-9_]+/g) ?? []) t.ok(recorded.has(name), `${name} is recorded`)
  }
  t.same(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'unique panel ids')
  const burn = dashboard.panels.find((p) => p.title.startsWith('Burn rate, page'))
  t.same(burn?.targets?.map((x) => x.legendFormat), ['{{slo}} 1h', '{{slo}} 5m', '{{slo}} 6h', '{{slo}} 30m'])
  t.same(burn?.fieldConfig?.defaults.thresholds?.steps.map((s) => s.value), [null, 6, 14.4])
  t.equal(dashboard.panels.find((p) => p.title.startsWith('Error budget remaining ('))?.targets?.[0]?.expr,
    'slo:error_budget_remaining:ratio{service="$service",route=~"$route|"}')
})

t.test('generateFiles: three files, YAML without anchors, header names the spec relative to the output directory', async (t) => {
  const files = generateFiles(orderService, { specFile: ORDER_SERVICE_SPEC, outDir: join(REPO_ROOT, 'deploy') })
  t.same(files.map((f) => f.path), ['prometheus/rules/slo-order-service.yml', 'prometheus/tests/slo-order-service.test.yml', 'grafana/dashboards/slo-order-service.json'])
  t.match(files[0]?.content, /^# Generated by o11y-slo from slo\/order-service\.yaml\. Do not edit/)
  t.notMatch(files[0]?.content, /[&*]a\d/, 'no YAML anchors or aliases')
  t.same(parse(files[0]?.content ?? ''), buildRules(orderService))
  t.same(JSON.parse(files[2]?.content ?? ''), buildDashboard(orderService))
  t.match(generateFiles(orderService)[0]?.content, /^# Generated by o11y-slo\. Do not edit/)
})
