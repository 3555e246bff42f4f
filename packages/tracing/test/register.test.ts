import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { startOtlpReceiver, type ReceivedSpan } from '@o11y/test-utils'
import { testDatabase, type TestDatabase } from './db'

// The fixtures load the BUILT package (dist/) by its name, exactly as an application does.
const root = join(__dirname, '..')

let db: TestDatabase
t.before(async () => {
  db = await testDatabase(t)
  t.teardown(() => db.stop())
})

interface Run { code: number | null, stdout: string, stderr: string }

function runNode (args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, {
      cwd: root,
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: db.url, ...env }
    }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

function checkTrace (t: Test, spans: ReceivedSpan[]): ReceivedSpan {
  const find = (name: string): ReceivedSpan => {
    const span = spans.find((s) => s.name === name)
    if (span === undefined) throw new Error(`no ${name} in ${spans.map((s) => s.name).join(', ')}`)
    return span
  }
  const server = find('GET /api/orders/:id')
  const query = find(`pg.query:SELECT ${db.database}`)
  t.equal(spans.filter((s) => s.kind === 2).length, 1, 'one SERVER span')
  t.notOk(spans.some((s) => s.name === 'request' || s.name.startsWith('handler - ')), 'no lifecycle spans by default')
  t.equal(server.kind, 2)
  t.equal(query.kind, 3)
  t.equal(query.parentSpanId, server.spanId, 'pg query under the SERVER span')
  t.equal(query.attributes['db.query.text'], 'SELECT $1::int AS id')
  t.equal(query.traceId, server.traceId, 'one trace')
  return server
}

t.test('ESM app with --import @o11y/tracing/register', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const run = await runNode(['--import', '@o11y/tracing/register', 'test/fixtures/esm-app.mjs'], {
    OTEL_SERVICE_NAME: 'esm-fixture',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    FIXTURE_TRACEPARENT: traceparent
  })
  t.equal(run.code, 0, run.stderr)
  t.same(JSON.parse(run.stdout.trim()), { status: 200, body: { id: 5 } })
  const spans = await receiver.waitForSpans(4)
  const server = checkTrace(t, spans)
  t.equal(server.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'the caller\'s trace continues')
  t.equal(server.parentSpanId, '00f067aa0ba902b7')
  t.equal(server.resource['service.name'], 'esm-fixture')
  t.notOk(run.stderr.includes('O11yTracingWarning'), 'no warnings')
})

t.test('CommonJS app with --require @o11y/tracing/register, Fastify instrumented without registering the plugin', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const run = await runNode(['--require', '@o11y/tracing/register', 'test/fixtures/cjs-app.cjs'], {
    OTEL_SERVICE_NAME: 'cjs-fixture',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
    OTEL_TRACES_SAMPLER: 'sometimes'
  })
  t.equal(run.code, 0, run.stderr)
  t.same(JSON.parse(run.stdout.trim()), { status: 200, body: { id: 6 } })
  const server = checkTrace(t, await receiver.waitForSpans(4))
  t.equal(server.parentSpanId, '', 'a new root trace')
  t.equal(server.resource['service.name'], 'cjs-fixture')
  const warnings = run.stderr.split('\n').filter((l) => l.includes('O11Y_ERR_TRACING_INVALID_ENV'))
  t.equal(warnings.length, 1, 'a bad OTEL_TRACES_SAMPLER logs one warning')
  t.match(warnings[0], /OTEL_TRACES_SAMPLER="sometimes" is not valid/)
})

t.test('OTEL_TRACES_EXPORTER=console prints the spans', async (t) => {
  const run = await runNode(['--require', '@o11y/tracing/register', 'test/fixtures/cjs-app.cjs'], { OTEL_TRACES_EXPORTER: 'console' })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, "name: 'GET /api/orders/:id'")
  t.match(run.stdout, `name: 'pg.query:SELECT ${db.database}'`)
})

t.test('OTEL_SDK_DISABLED=true: the app runs and nothing is exported', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const run = await runNode(['--import', '@o11y/tracing/register', 'test/fixtures/esm-app.mjs'], {
    OTEL_SDK_DISABLED: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url
  })
  t.equal(run.code, 0, run.stderr)
  t.same(JSON.parse(run.stdout.trim()), { status: 200, body: { id: 5 } })
  t.equal(receiver.requests.length, 0)
})

t.test('OTEL_TRACES_EXPORTER=otlp,console: the same spans go to the collector and to stdout', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const run = await runNode(['--require', '@o11y/tracing/register', 'test/fixtures/cjs-app.cjs'], {
    OTEL_TRACES_EXPORTER: 'otlp,console',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url
  })
  t.equal(run.code, 0, run.stderr)
  const server = checkTrace(t, await receiver.waitForSpans(4))
  t.match(run.stdout, "name: 'GET /api/orders/:id'")
  t.match(run.stdout, `traceId: '${server.traceId}'`, 'console shows the trace the collector got')
})

t.test('ESM app: outgoing fetch and node:http (named import) calls carry the request\'s trace', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const run = await runNode(['--import', '@o11y/tracing/register', 'test/fixtures/esm-outgoing.mjs'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url
  })
  t.equal(run.code, 0, run.stderr)
  const out = JSON.parse(run.stdout.trim()) as { status: number, body: string[], traceparents: Array<string | null> }
  t.same(out.body, ['pong', 'pong'])
  const spans = await receiver.waitForSpans(3)
  const server = spans.find((s) => s.name === 'GET /api/fanout')
  t.ok(server, 'SERVER span exported')
  const clients = spans.filter((s) => s.kind === 3)
  t.equal(clients.length, 2, 'one CLIENT span for fetch, one for http.get')
  t.equal(out.traceparents.length, 2)
  for (const [i, header] of out.traceparents.entries()) {
    t.match(header, new RegExp(`^00-${server!.traceId}-[0-9a-f]{16}-01$`), `call ${i} carries the trace`)
    const client = clients.find((c) => c.spanId === header?.split('-')[2])
    t.ok(client, `call ${i}: its parent id is an exported CLIENT span`)
    t.equal(client?.traceId, server!.traceId)
  }
})

t.test('every bad OTEL_* value at once: one warning per variable, defaults used, the app runs and is traced', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const bad: Record<string, string> = {
    OTEL_SDK_DISABLED: 'maybe',
    OTEL_RESOURCE_ATTRIBUTES: 'novalue',
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER_ARG: 'half',
    OTEL_BSP_MAX_QUEUE_SIZE: '-5'
  }
  const run = await runNode(['--require', '@o11y/tracing/register', 'test/fixtures/cjs-app.cjs'], {
    ...bad,
    OTEL_TRACES_SAMPLER: 'traceidratio', // valid; its argument is not
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl
  })
  t.equal(run.code, 0, run.stderr)
  t.same(JSON.parse(run.stdout.trim()), { status: 200, body: { id: 6 } })
  const warnings = run.stderr.split('\n').filter((l) => l.includes('O11Y_ERR_TRACING_INVALID_ENV'))
  for (const name of Object.keys(bad)) {
    t.equal(warnings.filter((w) => w.includes(`${name}=`)).length, 1, `one warning for ${name}`)
  }
  t.equal(warnings.length, Object.keys(bad).length, 'and no other')
  // Defaults: enabled, otlp over http/protobuf, ratio 1 (all sampled).
  checkTrace(t, await receiver.waitForSpans(4))
})

t.test('a script that ends by itself exports its spans on exit (beforeExit shutdown)', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const run = await runNode(['--require', '@o11y/tracing/register', '-e', "require('@o11y/tracing').withSpan('script_span', () => {}, { 'job.id': 'j1' })"], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '60000'
  })
  t.equal(run.code, 0, run.stderr)
  const [span] = await receiver.waitForSpans(1)
  t.equal(span?.name, 'script_span')
  t.equal(span?.attributes['job.id'], 'j1')
})
