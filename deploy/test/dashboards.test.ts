import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  dashboards, renderDashboard, generate, orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID,
  DASHBOARDS_DIR as GENERATOR_DIR, ALERT_THRESHOLD, DATASOURCE_UID, LABEL, METRIC, RECORDED
} from '../src/index'
import { DASHBOARDS_DIR, PROVISIONING_DIR, alertRules, allPanels, readYaml, recordingRules, type DashboardJson } from './lib/repo'

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
  for (const p of panels) {
    t.equal(p.datasource?.uid, DATASOURCE_UID.prometheus, `${p.title}: Prometheus data source`)
    t.ok((p.targets ?? []).length > 0, `${p.title} has queries`)
    for (const target of p.targets ?? []) {
      t.match(target.expr, /service=~"\$service"/, `${p.title}: filtered by the service variable`)
    }
  }
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
