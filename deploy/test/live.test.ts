import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  freePort, requireTool, startAlertmanager, startOtlpReceiver, startPrometheus, startWebhookReceiver, waitFor,
  PrometheusApiError, type PromRule
} from '@o11y/test-utils'
import { allPanels, dashboardFiles, ruleFiles, type DashboardJson } from './lib/repo'
import { METRIC } from '../src/index'
import { alertmanagerTestConfig } from './lib/alertmanager'
import {
  LOADGEN_ENTRY, SERVICE_DIR, SERVICE_ENTRY, buildExists, childEnv, metricsProtection, prometheusTestConfig, resolveVariables,
  startProcess, substitute, unresolved, writeTestRuleFiles, writeTokenFile
} from './lib/live'

const skip = requireTool('prometheus').skip || requireTool('prometheus-alertmanager').skip
// Long enough for some 80 checkouts, so every payment failure reason (3, at 30%) shows up.
const LOAD_SECONDS = 20
const TRACE_ID = /^[0-9a-f]{32}$/

t.test('live: the order service scraped by Prometheus feeds every dashboard query and rule; ServiceDown reaches the webhook', { skip }, async (t) => {
  // Built by turbo before this test (`test` depends on `^build`); a concurrent build may still be writing it.
  await waitFor(() => buildExists(), { timeoutMs: 30_000, intervalMs: 500, description: 'the order-service build (run `pnpm turbo run build --filter=@o11y/deploy...`)' })

  const tmp = mkdtempSync(join(tmpdir(), 'o11y-live-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

  // --- Alertmanager with the repository's routing, webhooks pointed at this test -----------------
  const hook = await startWebhookReceiver()
  t.teardown(() => hook.close())
  const am = await startAlertmanager({ configYaml: alertmanagerTestConfig(hook.url) })
  t.teardown(() => am.stop())

  // --- the order service on the embedded database, exporting spans to a local OTLP receiver -------
  const otlp = await startOtlpReceiver()
  t.teardown(() => otlp.close())
  const port = await freePort()
  const serviceUrl = `http://127.0.0.1:${port}`
  // As compose runs it: /metrics on a port of its own, behind a token from a file Prometheus reads too.
  const metricsPort = await freePort()
  const metricsUrl = `http://127.0.0.1:${metricsPort}`
  const { token, file: tokenFile } = writeTokenFile(tmp)
  const service = startProcess(['--import', '@o11y/tracing/register', SERVICE_ENTRY], SERVICE_DIR, childEnv({
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    METRICS_TOKEN_FILE: tokenFile,
    // A real PostgreSQL when there is one (CI sets DATABASE_URL), else the embedded PGlite.
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, DB_SCHEMA: 'o11y_live' } : { O11Y_DATA_DIR: join(tmp, 'pglite') }),
    OTEL_SERVICE_NAME: 'order-service',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_BSP_SCHEDULE_DELAY: '500',
    // Log records over OTLP to the same receiver (/v1/logs), beside the JSON lines on stdout.
    OTEL_LOGS_EXPORTER: 'otlp',
    // Some failed payments, so both payment statuses and the error panels have data.
    PAYMENT_FAILURE_RATE: '0.3',
    PAYMENT_LATENCY_MS: '5',
    // info: the request lines are written (and exported), not only warnings and errors.
    LOG_LEVEL: 'info'
  }))
  t.teardown(() => service.stop())
  let exitedEarly: number | null | undefined
  void service.exited.then((code) => { exitedEarly = code })
  await waitFor(async () => {
    if (exitedEarly !== undefined) throw new Error(`order service exited (${String(exitedEarly)}):\n${service.output().slice(-3000)}`)
    const res = await fetch(`${serviceUrl}/api/ready`).catch(() => undefined)
    await res?.arrayBuffer()
    return res?.status === 200
  }, { timeoutMs: 90_000, intervalMs: 250, description: `the order service at ${serviceUrl}/api/ready` })
    .catch((err: Error) => { throw new Error(`${err.message}\n${service.output().slice(-3000)}`) })

  // --- the protection: nothing without the token, nothing on the app port ---------------------------
  const seen = await metricsProtection(serviceUrl, metricsUrl, token)
  t.equal(seen.anonymous, 401, 'the metrics port without the token: 401')
  t.match(seen.challenge ?? '', /^Bearer /, 'with a Bearer challenge')
  t.equal(seen.wrongToken, 401, 'with a wrong token: 401')
  t.equal(seen.appPort, 404, 'the app port has no /metrics, even with the token')
  t.equal(seen.withToken, 200, 'the metrics port with the token: 200')

  // --- Prometheus with the repository's rules (test copies: 1 s evaluation) -------------------------
  const rulesDir = join(tmp, 'rules')
  mkdirSync(rulesDir)
  const sourceRules = ruleFiles()
  const prom = await startPrometheus({
    configYaml: prometheusTestConfig(`127.0.0.1:${metricsPort}`, `127.0.0.1:${am.port}`, tokenFile),
    ruleFiles: writeTestRuleFiles(sourceRules, rulesDir)
  })
  t.teardown(() => prom.stop())
  const target = await prom.waitFor(async () => (await prom.targets()).activeTargets.find((x) => x.health === 'up'),
    { timeoutMs: 15_000, description: 'the order-service target up' })
  t.equal(target.labels.job, 'order-service')
  t.equal(target.labels.service, 'order-service')
  t.equal(target.scrapeUrl, `${metricsUrl}/metrics`, 'Prometheus scrapes the metrics port, with the token from the shared file')

  // --- traffic -------------------------------------------------------------------------------------
  const loadStart = Date.now() / 1000
  const load = startProcess([LOADGEN_ENTRY, '--url', serviceUrl, '--duration', String(LOAD_SECONDS), '--rate', '25'], SERVICE_DIR, childEnv({}))
  t.teardown(() => load.stop())
  const loadExit = await load.exited
  t.equal(loadExit, 0, `loadgen exit code\n${load.output().slice(-2000)}`)
  // Two more scrapes and evaluations after the last request.
  await new Promise((r) => setTimeout(r, 3000))

  // --- every rule: loaded, healthy, its expression parses; recording rules produce data --------------
  const groups = await prom.waitFor(async () => {
    const g = await prom.rules()
    return g.every((x) => x.rules.every((r) => r.health !== 'unknown')) ? g : undefined
  }, { timeoutMs: 15_000, description: 'every rule evaluated once' })
  const loadedFiles = new Set(groups.map((g) => g.file.split('/').pop()))
  for (const f of sourceRules) t.ok(loadedFiles.has(f.split('/').pop()), `${f} loaded`)
  const rules: PromRule[] = groups.flatMap((g) => g.rules)
  t.ok(rules.length >= 16, `${rules.length} rules loaded`)
  for (const rule of rules) {
    t.equal(rule.health, 'ok', `${rule.type} ${rule.name}: health ${rule.health} ${rule.lastError ?? ''}`)
    const res = await prom.query(rule.query).catch((err: Error) => err)
    if (res instanceof Error) {
      t.fail(`${rule.name}: ${res.message}`)
      continue
    }
    if (rule.type === 'recording') t.ok(res.result.length > 0, `recording rule ${rule.name} returns data: ${rule.query}`)
    else t.pass(`alert ${rule.name}: expression evaluates (${res.result.length} series now)`)
  }

  // --- every dashboard panel query: parses and returns series ------------------------------------------
  const now = Date.now() / 1000
  const exemplarQueries: string[] = []
  const files = dashboardFiles()
  t.ok(files.length >= 1)
  for (const file of files) {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as DashboardJson
    const { values, problems } = await resolveVariables(dashboard, prom)
    for (const p of problems) t.fail(`${dashboard.uid}: ${p}`)
    for (const panel of allPanels(dashboard)) {
      // Loki panels (the logs row) are LogQL, checked by dashboards.test.ts; there is no Loki here.
      if (panel.datasource?.type === 'loki') continue
      for (const target of panel.targets ?? []) {
        if (!target.expr) continue
        const expr = substitute(target.expr, values)
        const label = `${dashboard.uid} "${panel.title}" ${target.refId ?? ''}: ${expr}`
        t.same(unresolved(expr), [], `${label}: every variable substituted`)
        const res = await (target.instant === true ? prom.query(expr) : prom.queryRange(expr, loadStart, now, 1)).catch((e: Error) => e)
        if (res instanceof PrometheusApiError || res instanceof Error) {
          t.fail(`${label}: ${res.message}`)
          continue
        }
        t.ok(res.result.length > 0, `${label} returns series`)
        if (target.exemplar === true) exemplarQueries.push(expr)
      }
    }
  }

  // --- the business metrics: every failure reason the simulated provider gives, checkout value per currency ---
  const reasons = await prom.query(`sum by (reason) (${METRIC.paymentFailures})`)
  const reasonNames = (reasons.result as Array<{ metric: Record<string, string> }>).map((r) => r.metric.reason).sort()
  t.same(reasonNames, ['card_declined', 'insufficient_funds', 'provider_timeout'], `payment failures by reason: ${reasonNames.join(', ')}`)
  const currencies = await prom.query(`sum by (currency) (${METRIC.orderValueCount})`)
  t.ok(currencies.result.length >= 2, `paid orders in ${currencies.result.length} currencies`)
  const orders = Number((await prom.query(`sum(${METRIC.ordersCreated})`)).result[0]?.value[1] ?? 0)
  t.ok(orders >= 50, `${orders} orders created`)

  // --- exemplars: the latency queries find trace ids ----------------------------------------------------
  t.ok(exemplarQueries.length >= 1, 'some panel asks for exemplars')
  const traceIds = new Set<string>()
  for (const expr of exemplarQueries) {
    const series = await prom.queryExemplars(expr, loadStart - 5, now + 5)
    const ids = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id ?? ''))
    t.ok(ids.length > 0 && ids.every((id) => TRACE_ID.test(id)), `query_exemplars(${expr}) returns trace ids (${ids.length})`)
    for (const s of series) t.equal(s.seriesLabels.__name__, 'http_request_duration_seconds_bucket')
    for (const id of ids) traceIds.add(id)
  }

  // --- stop the service: ServiceDown fires and reaches the webhook through Alertmanager --------------------
  const stopCode = await service.stop()
  t.equal(stopCode, 0, 'the service shuts down cleanly')
  // Spans are flushed at shutdown: every exemplar is the trace of a request, as Jaeger would show it.
  const serverSpans = new Map(otlp.spans().filter((s) => s.kind === 2).map((s) => [s.traceId, s]))
  const sample = [...traceIds].slice(0, 20)
  const linked = sample.filter((id) => /^(GET|POST) \/api\//.test(serverSpans.get(id)?.name ?? ''))
  t.ok(sample.length > 0 && linked.length === sample.length,
    `exemplar trace ids are exported traces with a SERVER span of the request (${linked.length}/${sample.length})`)

  // OTLP logs: the request lines reached the receiver, trace context in the record's own fields,
  // and their trace ids resolve to exported traces (the SERVER span of the same request).
  const requestRecords = otlp.logs().filter((r) => r.body === 'request completed' && String(r.attributes.route ?? '').startsWith('/api/orders'))
  t.ok(requestRecords.length >= LOAD_SECONDS * 10, `request lines exported over OTLP (${requestRecords.length})`)
  const dangling = requestRecords.filter((r) => !(TRACE_ID.test(r.traceId) && serverSpans.get(r.traceId)?.spanId !== undefined && otlp.spans().some((s) => s.traceId === r.traceId && s.spanId === r.spanId)))
  t.same(dangling.slice(0, 5).map((r) => `${String(r.attributes.route)} ${r.traceId}/${r.spanId}`), [], `every exported request line resolves to an exported span of its trace (${requestRecords.length - dangling.length}/${requestRecords.length})`)
  t.ok(requestRecords.every((r) => r.resource['service.name'] === 'order-service' && r.resource['service.instance.id'] === serverSpans.values().next().value?.resource['service.instance.id']), 'logs and spans share one resource')
  t.ok(requestRecords.some((r) => r.severityNumber === 9) && requestRecords.every((r) => [9, 17].includes(r.severityNumber)), 'INFO (9) and ERROR (17) request lines')

  const firing = await prom.waitFor(async () => (await prom.alerts()).find((a) => a.labels.alertname === 'ServiceDown' && a.state === 'firing'),
    { timeoutMs: 30_000, intervalMs: 500, description: 'ServiceDown firing in Prometheus' })
  t.equal(firing.labels.service, 'order-service')
  t.equal(firing.labels.job, 'order-service')
  t.equal(firing.labels.severity, 'critical')
  const note = await hook.waitFor(() => hook.notifications.find((n) => n.status === 'firing' && n.commonLabels.alertname === 'ServiceDown'),
    { timeoutMs: 30_000, intervalMs: 250, description: 'the ServiceDown notification at the webhook' })
  t.equal(note.receiver, 'critical-pagerduty', 'routed by severity to the paging receiver')
  t.equal(note.path, '/critical')
  t.equal(note.commonLabels.service, 'order-service')
  t.match(note.commonAnnotations.runbook_url, /docs\/runbooks\.md#servicedown$/)
  t.match(note.commonAnnotations.summary, /order-service is down/)
})
