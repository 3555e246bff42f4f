import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  dashboards, renderDashboard, generate, orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID, businessDashboard, BUSINESS_DASHBOARD_UID,
  DASHBOARDS_DIR as GENERATOR_DIR, ALERT_THRESHOLD, DATASOURCE_UID, LABEL, LOG_FIELD, METRIC, RECORDED, SEVERITY_NUMBER_ERROR,
  errorLines, errorLinesPerRoute, serviceStreams, topErrorMessages
} from '../src/index'
import { DASHBOARDS_DIR, PROVISIONING_DIR, alertRules, allPanels, dashboardFiles, readYaml, recordingRules, type DashboardJson } from './lib/repo'
import { logqlProblems } from './lib/logql'

/** Grafana's variables in a Loki query, replaced by values of the right shape for the parser. */
const GRAFANA_LOKI_VARIABLES: Record<string, string> = { $__auto: '1m', $__range: '5m', $__interval: '15s', $__rate_interval: '1m' }
const fillLokiVariables = (expr: string): string =>
  Object.entries(GRAFANA_LOKI_VARIABLES).reduce((e, [name, value]) => e.split(name).join(value), expr)

/** Highest dashboard schemaVersion Grafana 12 (12.4) knows; it migrates lower ones when it loads them. */
const GRAFANA_12_SCHEMA_VERSION = 42

t.test('the checked-in dashboard JSON is exactly what the code generates', async (t) => {
  t.equal(GENERATOR_DIR, DASHBOARDS_DIR)
  const generated = dashboards()
  t.ok(Object.keys(generated).length >= 1)
  for (const [file, dashboard] of Object.entries(generated)) {
    const checkedIn = readFileSync(join(DASHBOARDS_DIR, file), 'utf8')
    t.equal(checkedIn, renderDashboard(dashboard),
      `deploy/grafana/dashboards/${file} is stale: run \`pnpm --filter @o11y/deploy build && pnpm --filter @o11y/deploy dashboards\``)
  }
})

t.test('generate() writes the same files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-dashboards-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const written = generate(dir)
  t.same(written.map((p) => p.slice(dir.length + 1)), Object.keys(dashboards()))
  for (const path of written) {
    t.equal(readFileSync(path, 'utf8'), readFileSync(join(DASHBOARDS_DIR, path.slice(dir.length + 1)), 'utf8'))
  }
})

t.test('the service dashboard has the panels and variables the issue asks for', async (t) => {
  const d = JSON.parse(renderDashboard(dashboards()['o11y-service.json'] as never)) as DashboardJson
  t.same(d.templating?.list?.map((v) => v.name), ['service', 'route'])
  const panels = allPanels(d).filter((p) => p.type !== 'row')
  const byTitle = new Map(panels.map((p) => [p.title, p]))
  const exprs = (title: string): string[] => (byTitle.get(title)?.targets ?? []).map((x) => x.expr)
  t.match(exprs('Request rate')[0], RECORDED.requestsByRouteStatus)
  t.match(exprs('Request rate per route')[0], /sum by \(service, route\)/)
  t.match(exprs('Error rate (4xx and 5xx)').join(' '), /status_code=~"4\.\."[\s\S]*status_code=~"5\.\."/)
  const latency = byTitle.get('Latency p50 / p95 / p99 (with trace exemplars)')
  t.same(latency?.targets?.map((x) => x.exemplar), [true, true, true], 'latency queries ask for exemplars')
  t.match(latency?.targets?.map((x) => x.expr).join(' '), /0\.5,[\s\S]*0\.95,[\s\S]*0\.99,/)
  t.match(exprs('Top endpoints by request rate')[0], /^topk\(10,/)
  t.match(exprs('Exception rate by type')[0], /sum by \(exception\)/)
  t.equal(byTitle.get('Status codes')?.type, 'piechart')
  t.equal(byTitle.get('Request duration heatmap')?.type, 'heatmap')
  t.match(exprs('Event-loop lag')[0], METRIC.eventLoopLagP99)
  t.match(exprs('Heap')[0], METRIC.heapUsed)
  t.match(exprs('Orders created')[0], METRIC.ordersCreated)
  t.match(exprs('Payments by status')[0], /sum by \(status\) \(rate\(payments_processed_total/)
  // The logs row: Loki, by the same service variable.
  const logPanels = panels.filter((p) => p.datasource?.uid === DATASOURCE_UID.loki)
  t.same(logPanels.map((p) => p.title), ['Error lines per route', 'Top error messages', 'Error lines'])
  t.match(exprs('Error lines per route')[0], new RegExp(`^sum by \\(${LOG_FIELD.route}\\) \\(count_over_time\\(`))
  t.match(exprs('Top error messages')[0], /^topk\(10, sum by \(message\)/)
  t.match(exprs('Top error messages')[0], LOG_FIELD.errorMessage, 'groups by the error\'s own message when there is one')
  t.equal(byTitle.get('Error lines')?.type, 'logs')
  t.same([exprs('Error lines per route')[0], exprs('Top error messages')[0], exprs('Error lines')[0]], [errorLinesPerRoute, topErrorMessages, errorLines], 'the shared LogQL of src/dashboards/logql.ts')
  t.ok(errorLines.startsWith(serviceStreams))
  for (const p of logPanels) t.match(p.targets?.[0]?.expr, `| ${LOG_FIELD.severityNumber} >= ${SEVERITY_NUMBER_ERROR}`, `${p.title}: ERROR and FATAL lines`)
  for (const p of panels) {
    const logsPanel = p.datasource?.uid === DATASOURCE_UID.loki
    t.equal(p.datasource?.uid, logsPanel ? DATASOURCE_UID.loki : DATASOURCE_UID.prometheus, `${p.title}: ${logsPanel ? 'Loki' : 'Prometheus'} data source`)
    t.ok((p.targets ?? []).length > 0, `${p.title} has queries`)
    for (const target of p.targets ?? []) {
      t.match(target.expr, logsPanel ? `{${LOG_FIELD.service}=~"$service"}` : /service=~"\$service"/, `${p.title}: filtered by the service variable`)
    }
  }
})

t.test('the business dashboard: orders, checkout value per currency, payments by status and failures by reason', async (t) => {
  const d = JSON.parse(renderDashboard(businessDashboard())) as DashboardJson
  t.equal(d.uid, BUSINESS_DASHBOARD_UID)
  t.same(d.templating?.list?.map((v) => v.name), ['service', 'currency'])
  const panels = allPanels(d).filter((p) => p.type !== 'row')
  const exprs = (title: string): string => (panels.find((p) => p.title === title)?.targets ?? []).map((x) => x.expr).join(' ')
  t.match(exprs('Orders created per minute'), `rate(${METRIC.ordersCreated}{`)
  t.match(exprs('Checkout value per minute'), new RegExp(`sum by \\(currency\\) \\(rate\\(${METRIC.orderValueSum}`))
  t.match(exprs('Average order value'), METRIC.orderValueCount)
  t.match(exprs('Order value p50 / p90'), /histogram_quantile\(0\.5,[\s\S]*histogram_quantile\(0\.9,/)
  t.match(exprs('Payments by status'), `sum by (status) (rate(${METRIC.paymentsProcessed}`)
  t.match(exprs('Payment failures by reason'), `sum by (reason) (rate(${METRIC.paymentFailures}`)
  t.match(exprs('Payment failure reasons'), `increase(${METRIC.paymentFailures}`)
  // Cents of different currencies are never added up.
  for (const p of panels) {
    for (const x of p.targets ?? []) {
      if (x.expr.includes('order_value_cents')) t.match(x.expr, /sum by \(currency|histogram_quantile\(0\.\d+, sum by \(currency, le\)/, `${p.title}: per currency`)
      t.match(x.expr, /service=~"\$service"/, `${p.title}: filtered by the service variable`)
    }
    t.equal(p.datasource?.uid, DATASOURCE_UID.prometheus)
  }
})

t.test('every Loki query of every dashboard is valid LogQL (Grafana\'s own grammar); a broken one is caught', async (t) => {
  let checked = 0
  for (const file of dashboardFiles()) {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as DashboardJson
    for (const panel of allPanels(dashboard)) {
      if (panel.datasource?.type !== 'loki') continue
      for (const target of panel.targets ?? []) {
        t.same(logqlProblems(fillLokiVariables(target.expr)), [], `${dashboard.uid} "${panel.title}": ${target.expr}`)
        checked++
      }
    }
  }
  t.ok(checked >= 3, `${checked} LogQL queries checked`)
  t.not(logqlProblems('sum by (route (count_over_time({service_name="x"} [5m]))').length, 0, 'a missing parenthesis is an error')
  t.not(logqlProblems('{service_name="x"} | severity_number >= ').length, 0, 'a filter without a value is an error')
})

t.test('every dashboard has a schemaVersion Grafana 12 loads', async (t) => {
  const files = dashboardFiles()
  t.ok(files.length >= 3)
  for (const file of files) {
    const d = JSON.parse(readFileSync(file, 'utf8')) as { uid: string, schemaVersion: number }
    t.ok(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 36 && d.schemaVersion <= GRAFANA_12_SCHEMA_VERSION,
      `${d.uid}: schemaVersion ${d.schemaVersion} (Grafana 12 knows up to ${GRAFANA_12_SCHEMA_VERSION} and migrates older ones)`)
  }
  for (const dashboard of Object.values(dashboards())) t.equal(dashboard.schemaVersion, GRAFANA_12_SCHEMA_VERSION, `${dashboard.uid}: the generated dashboards use Grafana 12's schema`)
})

t.test('the names in src/constants.ts match the recording rules and the provisioning', async (t) => {
  const records = new Set(recordingRules().map((r) => r.record))
  for (const [key, name] of Object.entries(RECORDED)) t.ok(records.has(name), `RECORDED.${key} (${name}) is a recording rule`)
  const ds = readYaml<{ datasources: Array<{ uid: string, type: string }> }>(join(PROVISIONING_DIR, 'datasources', 'datasources.yml')).datasources
  t.same(ds.map((d) => d.uid).sort(), Object.values(DATASOURCE_UID).sort())
  t.equal(orderServiceDashboard().uid, ORDER_SERVICE_DASHBOARD_UID)
  const text = readFileSync(join(DASHBOARDS_DIR, 'o11y-service.json'), 'utf8')
  for (const label of [LABEL.service, LABEL.route, LABEL.statusCode, LABEL.exception, LABEL.paymentStatus]) t.match(text, `by (${label})`)
})

t.test('the alert-signal stats read the recordings and thresholds the alerts use', async (t) => {
  const expr = (name: string): string => (alertRules().find((a) => a.alert === name)?.expr ?? '').trim()
  t.equal(expr('High5xxErrorRate'), `${RECORDED.requests5xxRatio} > ${ALERT_THRESHOLD.errorRatio5xx}`)
  t.equal(expr('HighRequestLatency'), `${RECORDED.durationP95} > ${ALERT_THRESHOLD.latencyP95Seconds}`)
  t.equal(expr('ExceptionSpike'), `${RECORDED.exceptions} > ${ALERT_THRESHOLD.exceptionsPerSecond}`)
  t.equal(expr('EventLoopLagHigh'), `${RECORDED.eventLoopLagP99Max} > ${ALERT_THRESHOLD.eventLoopLagP99Seconds}`)
  t.match(expr('AbnormalRequestRate'), RECORDED.requestsDailyAverage)
  const d = JSON.parse(renderDashboard(orderServiceDashboard())) as DashboardJson & { panels: Array<{ fieldConfig?: any }> }
  const stats = d.panels.filter((p) => p.type === 'stat') as Array<DashboardJson['panels'][number] & { fieldConfig?: any }>
  const redFrom = (recording: string): number | undefined => {
    const p = stats.find((s) => s.targets?.[0]?.expr.startsWith(`${recording}{`))
    return p?.fieldConfig?.defaults?.thresholds?.steps?.find((s: { color: string }) => s.color === 'red')?.value
  }
  t.equal(redFrom(RECORDED.requests5xxRatio), ALERT_THRESHOLD.errorRatio5xx)
  t.equal(redFrom(RECORDED.durationP95), ALERT_THRESHOLD.latencyP95Seconds)
  t.equal(redFrom(RECORDED.exceptions), ALERT_THRESHOLD.exceptionsPerSecond)
  t.equal(redFrom(RECORDED.eventLoopLagP99Max), ALERT_THRESHOLD.eventLoopLagP99Seconds)
})
