// The real entry point, as `pnpm start` runs it: node --import @o11y/tracing/register dist/server.js,
// exporting spans over OTLP/HTTP to a receiver started here, logs read from its stdout.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { get } from 'node:http'
import { resolve } from 'node:path'
import { startOtlpReceiver, type ReceivedSpan } from '@o11y/test-utils'
import t, { type Test } from 'tap'
import { APP_DIR } from '../src/config.js'
import { databaseTargets, sampleOrder, serviceDatabaseEnv, tcpProxy, uniqueSchema } from './helpers.js'

const SERVER = 2
const CLIENT = 3
const ERROR = 2

interface Child {
  proc: ChildProcess
  url: string
  stdout: () => string
  logs: () => Array<Record<string, any>>
  stop: () => Promise<number | null>
}

async function startChild (t: Test, env: Record<string, string>): Promise<Child> {
  // The tests here start the service on its embedded database, whatever DATABASE_URL the run has.
  const { NODE_OPTIONS: _ignored, DATABASE_URL: _real, ...parentEnv } = process.env
  const proc = spawn(process.execPath, ['--import', '@o11y/tracing/register', resolve(APP_DIR, 'dist/server.js')], {
    cwd: APP_DIR,
    env: { ...parentEnv, PORT: '0', HOST: '127.0.0.1', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_TRACES_SAMPLER: 'always_on', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = once(proc, 'exit')
  t.teardown(() => { if (proc.exitCode === null) proc.kill('SIGKILL') })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /order-service listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1]) {
        clearInterval(timer)
        resolve(m[1])
      } else if (proc.exitCode !== null) {
        clearInterval(timer)
        reject(new Error(`the service exited with ${proc.exitCode}: ${err}${out}`))
      }
    }, 50)
  })
  return {
    proc,
    url,
    stdout: () => out,
    logs: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>),
    async stop () {
      proc.kill('SIGTERM')
      const [code] = await exited as [number | null]
      if (err.trim() !== '') t.comment(`service stderr: ${err.trim()}`)
      return code
    }
  }
}

function byName (spans: ReceivedSpan[], name: string): ReceivedSpan {
  const span = spans.find((s) => s.name === name)
  if (!span) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(', ')}`)
  return span
}

t.test('one checkout traced end to end: spans, logs (stdout and OTLP) and exemplars share the trace id', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const child = await startChild(t, {
    O11Y_DATA_DIR: 'memory://',
    PAYMENT_LATENCY_MS: '20',
    PAYMENT_FAILURE_RATE: '0',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'order-service',
    // Log records over OTLP to the same receiver (/v1/logs), beside the JSON lines on stdout.
    OTEL_LOGS_EXPORTER: 'otlp'
  })
  t.match(child.stdout(), /order-service on embedded PostgreSQL \(PGlite\)/)

  const created = await fetch(`${child.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleOrder()) })
  t.equal(created.status, 201)
  const order = await created.json() as { id: string, totalCents: number }
  const checkout = await fetch(`${child.url}/api/orders/${order.id}/checkout`, { method: 'POST' })
  t.equal(checkout.status, 200)
  const scrape = await fetch(`${child.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
  t.match(scrape.headers.get('content-type'), /application\/openmetrics-text/)
  const metrics = await scrape.text()

  t.equal(await child.stop(), 0, 'SIGTERM: clean exit')
  t.match(child.stdout(), /shutdown complete/)

  // Spans: all of them arrived before exit (flushed on shutdown).
  const all = receiver.spans()
  const serverSpans = all.filter((s) => s.kind === SERVER && s.name === 'POST /api/orders/:id/checkout')
  t.equal(serverSpans.length, 1, 'exactly one SERVER span for the checkout request')
  const server = serverSpans[0]
  if (!server) throw new Error(`no SERVER span for the checkout among ${all.map((s) => s.name).join(', ')}`)
  const traceId = server.traceId
  t.match(traceId, /^[0-9a-f]{32}$/)
  t.equal(server.parentSpanId, '', 'the SERVER span is the root')
  t.equal(server.resource['service.name'], 'order-service')
  const trace = all.filter((s) => s.traceId === traceId)
  const names = trace.map((s) => s.name)

  // One SERVER span per request from @o11y/tracing; no @fastify/otel lifecycle spans by default.
  t.equal(server.scope.name, '@o11y/tracing', 'the SERVER span comes from @o11y/tracing')
  t.notOk(trace.some((s) => /fastify/i.test(s.scope.name)), `no lifecycle spans by default (${names.join(', ')})`)
  const flow = byName(trace, 'checkout_flow')
  const validate = byName(trace, 'validate_cart')
  const payment = byName(trace, 'process_payment')
  t.equal(flow.attributes['order.id'], order.id)
  t.equal(validate.parentSpanId, flow.spanId, 'validate_cart is a child of checkout_flow')
  t.equal(payment.parentSpanId, flow.spanId, 'process_payment is a child of checkout_flow')
  t.same(payment.events.map((e) => e.name), ['payment.requested', 'payment.authorized'])
  t.same(validate.events.map((e) => e.name), ['cart.validated'])
  t.equal(payment.attributes['payment.provider'], 'simulated')
  const pg = trace.filter((s) => s.kind === CLIENT && (s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql'))
  t.ok(pg.length >= 3, `pg spans in the trace (${pg.length}: ${pg.map((s) => s.name).join(', ')})`)
  t.ok(pg.some((s) => s.parentSpanId === validate.spanId), 'the order is read inside validate_cart')
  t.ok(pg.some((s) => String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? '').includes('UPDATE')), 'the UPDATE that marks it paid is traced')
  const ids = new Set(trace.map((s) => s.spanId))
  for (const s of trace) if (s !== server) t.ok(ids.has(s.parentSpanId), `${s.name} hangs in the same trace tree`)
  t.notOk(trace.some((s) => s.status.code === ERROR), `no span is ERROR in a successful checkout (${names.join(', ')})`)

  // Logs: the request line and the domain line carry the trace id.
  const lines = child.logs().filter((l) => l.trace_id === traceId)
  const request = lines.find((l) => l.message === 'request completed')
  t.match(request, { route: '/api/orders/:id/checkout', method: 'POST', status_code: 200, level: 'INFO', span_id: /^[0-9a-f]{16}$/ }, 'the request line')
  t.ok(lines.find((l) => l.message === 'order paid' && l.order_id === order.id), 'the "order paid" line')
  t.notOk(child.logs().some((l) => l.message === 'order created' && l.trace_id === traceId), 'the create request has its own trace')

  // OTLP logs: the same records reached the receiver (flushed in onClose), their trace and span
  // ids in the record's own fields resolve to exported spans, one resource with the spans.
  const records = receiver.logs()
  t.equal(receiver.requests.filter((r) => r.path === '/v1/logs').length > 0, true, 'log records were posted to /v1/logs')
  const exportedLine = records.find((r) => r.body === 'request completed' && r.traceId === traceId)
  t.match(exportedLine, { severityNumber: 9, severityText: 'INFO', spanId: request?.span_id, traceFlags: 1, attributes: { route: '/api/orders/:id/checkout', status_code: 200 } }, 'the request line, exported with its trace context')
  t.ok(records.find((r) => r.body === 'order paid' && r.traceId === traceId && r.attributes.order_id === order.id), 'the "order paid" record')
  const traced = records.filter((r) => r.traceId !== '')
  t.ok(traced.length >= 4, `${traced.length} exported records carry a trace id`)
  for (const r of traced) t.ok(all.some((s) => s.traceId === r.traceId && s.spanId === r.spanId), `record "${String(r.body)}" resolves to an exported span`)
  t.equal(records[0]?.resource['service.name'], 'order-service')
  t.equal(records[0]?.resource['service.instance.id'], server.resource['service.instance.id'], 'logs and spans share one resource')
  t.equal(records.length, child.logs().length, 'every stdout line was exported')

  // Metrics: the route series with an exemplar of this trace, and the business metrics.
  const checkoutSeries = metrics.split('\n').filter((l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes('route="/api/orders/:id/checkout"'))
  t.ok(checkoutSeries.length > 0, 'the checkout route has a latency histogram')
  t.ok(checkoutSeries.some((l) => l.includes(`trace_id="${traceId}"`)), 'an exemplar points at the checkout trace')
  t.match(metrics, /http_requests_total\{[^}]*route="\/api\/orders\/:id\/checkout"[^}]*\} 1/)
  t.match(metrics, /^orders_created_total 1$/m)
  t.match(metrics, /^payments_processed_total\{(?=[^}]*status="succeeded")(?=[^}]*currency="EUR")[^}]*\} 1$/m)
  t.match(metrics, new RegExp(`^order_value_cents_sum\\{currency="EUR"\\} ${order.totalCents}$`, 'm'))
  t.match(metrics, /^# EOF$/m, 'OpenMetrics ends with # EOF')
})

t.test('database down: 503, ERROR span, logged with the trace id, recovery without restart', async (t) => {
  const [target] = await databaseTargets(t)
  if (!target) throw new Error('no database target')
  const proxy = await tcpProxy(target.url)
  t.teardown(() => proxy.close())
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const schema = uniqueSchema()
  t.teardown(async () => {
    const pg = (await import('pg')).default
    const admin = new pg.Client({ connectionString: target.url })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  const child = await startChild(t, {
    DATABASE_URL: proxy.url,
    DB_SCHEMA: schema,
    DB_POOL_MAX: String(target.poolMax),
    DB_CONNECT_TIMEOUT_MS: '800',
    DB_STATEMENT_TIMEOUT_MS: '800',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url
  })
  const order = await (await fetch(`${child.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleOrder()) })).json() as { id: string }
  await proxy.stop()
  const down = await fetch(`${child.url}/api/orders/${order.id}`)
  t.equal(down.status, 503)
  t.same(await down.json(), { statusCode: 503, error: 'Service Unavailable', code: 'DATABASE_UNAVAILABLE', message: 'database unavailable, try again later' })
  t.equal((await fetch(`${child.url}/api/ready`)).status, 503)
  await proxy.start()
  t.equal((await fetch(`${child.url}/api/ready`)).status, 200, 'ready again')
  const up = await fetch(`${child.url}/api/orders/${order.id}`)
  t.equal(up.status, 200, 'recovered without a restart')
  t.equal(await child.stop(), 0)

  const servers = receiver.spans().filter((s) => s.kind === SERVER && s.name === 'GET /api/orders/:id')
  const failed = servers.find((s) => s.status.code === ERROR)
  if (!failed) throw new Error(`no ERROR SERVER span among ${servers.map((s) => `${s.name}:${s.status.code}`).join(', ')}`)
  t.equal(failed.attributes['http.response.status_code'], 503)
  t.ok(servers.some((s) => s.status.code !== ERROR), 'the request after recovery is not an error')
  const logged = child.logs().find((l) => l.message === 'database unavailable' && l.trace_id === failed.traceId)
  t.match(logged, { level: 'ERROR' }, 'the error is logged with the trace id of the failed request')
  t.match(JSON.stringify(logged), /ECONNREFUSED|Connection terminated|timeout/i, 'the log keeps the cause')
})

t.test('--workers 2 on PostgreSQL: each worker has its own service.instance.id, its log lines say which worker, /metrics counts both', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  // A fresh schema the workers have never seen: the primary migrates it before forking them.
  const db = await serviceDatabaseEnv(t)
  if (db.DATABASE_URL === undefined) {
    t.comment('no real PostgreSQL outside CI: cluster mode on the embedded database is tested in deploy/test/ha.test.ts')
    return
  }
  const child = await startChild(t, { ...db, WORKERS: '2', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'order-service' })
  // Both workers listen: the first prints the banner line, the second its own line. Either may be
  // first, and the primary hands connections only to workers that listen, so wait for both.
  const bothListen = (out: string): boolean => /^order-service listening/m.test(out) && /^worker 2: order-service listening/m.test(out)
  const deadline = Date.now() + 30_000
  while (!bothListen(child.stdout()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.match(child.stdout(), /^worker 2: order-service listening/m, 'the second worker listens')
  t.match(child.stdout(), /^order-service listening/m, 'the first worker listens')

  // A new connection per request (no keep-alive), so the primary hands them to both workers.
  const { port } = new URL(child.url)
  const REQUESTS = 40
  for (let i = 0; i < REQUESTS; i++) {
    const status = await new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: `/api/orders?customerId=c-${i}&limit=1`, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) }).on('error', reject)
    })
    if (status !== 200) t.fail(`request ${i} answered ${status}`)
  }
  const scrape = await (await fetch(`${child.url}/metrics`)).text()
  const counted = /^http_requests_total\{method="GET",route="\/api\/orders",status_code="200"\} (\d+)$/m.exec(scrape)
  t.equal(Number(counted?.[1]), REQUESTS, '/metrics of whichever worker answered counts the requests of both')
  t.equal(await child.stop(), 0, 'SIGTERM: the primary and both workers end cleanly')

  const lines = child.logs().filter((l) => l.message === 'request completed' && l.route === '/api/orders')
  t.equal(lines.length, REQUESTS, 'one request line per request')
  t.same([...new Set(lines.map((l) => l.worker))].sort(), [1, 2], 'the lines carry the worker id, and both workers served')
  const servers = receiver.spans().filter((s) => s.kind === SERVER && s.name === 'GET /api/orders')
  t.equal(servers.length, REQUESTS, 'one SERVER span per request')
  const instances = new Set(servers.map((s) => s.resource['service.instance.id']))
  t.equal(instances.size, 2, `two service.instance.id values: ${[...instances].join(', ')}`)
  t.ok(servers.every((s) => s.resource['service.name'] === 'order-service'), 'one service.name')
  // Each worker's log lines and spans agree: a worker id maps to exactly one instance id.
  const spanByTrace = new Map(servers.map((s) => [s.traceId, s]))
  const instanceOf = new Map<number, Set<unknown>>()
  for (const l of lines) {
    const span = spanByTrace.get(l.trace_id as string)
    if (span === undefined) { t.fail(`no span for the line of trace ${String(l.trace_id)}`); continue }
    const set = instanceOf.get(l.worker as number) ?? new Set()
    set.add(span.resource['service.instance.id'])
    instanceOf.set(l.worker as number, set)
  }
  t.same([...instanceOf.values()].map((s) => s.size), [1, 1], 'each worker\'s lines point at spans of one instance id')
})
