// OTLP log export against the project's real receivers (test-utils), with the real @o11y/tracing
// exporting the spans of the same requests: ids, severity, redaction, resource; then a dead, a
// refusing and a hanging log collector under 600 requests.
import { createServer } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver, type ReceivedLog } from '@o11y/test-utils'
import { startTracing } from '@o11y/tracing'
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { createLogger, ERROR_CODES, fastifyLoggerOptions, flushLogs, loggingStats, o11yLogging } from '../src/index'
import { capture } from './helpers'

// A full collection before each heap reading, so the figure is what stays retained, not garbage
// that the collector had not reached yet.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
function retainedHeap (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let traces: OtlpReceiver
t.before(async () => {
  traces = await startOtlpReceiver()
  const tracing = startTracing({
    serviceName: 'otlp-logs-test',
    endpoint: traces.tracesUrl,
    scheduledDelayMillis: 20,
    fastify: { lifecycleSpans: false },
    logger: { warn () {} }
  })
  t.teardown(async () => {
    await tracing.shutdown()
    await traces.close()
  })
})

const warnings: Array<{ code: string | undefined, message: string }> = []
const onWarning = (warning: Error & { code?: string }): void => { warnings.push({ code: warning.code, message: warning.message }) }
process.on('warning', onWarning)
t.teardown(() => { process.off('warning', onWarning) })

async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function exportedThroughApp (t: Test, receiver: OtlpReceiver, protocol: 'http/protobuf' | 'grpc'): Promise<void> {
  const out = capture()
  const app = Fastify(fastifyLoggerOptions({
    name: 'orders',
    destination: out,
    level: 'debug',
    otlp: { endpoint: receiver.logsUrl, protocol, scheduledDelayMillis: 20 }
  }))
  await app.register(o11yLogging)
  app.get('/api/orders/:id', async function getOrder (request) {
    request.log.debug({ order_id: (request.params as { id: string }).id }, 'loading order')
    request.log.warn({ authorization: 'Bearer s3cr3t-t0ken', card: { cvv: '123', last4: '4242' } }, 'payment retried')
    if ((request.params as { id: string }).id === 'boom') throw new Error('no such order')
    return { ok: true }
  })
  const ids = ['1', '2', 'boom']
  for (const id of ids) await app.inject({ url: `/api/orders/${id}` })
  await app.close()

  // 3 records per request (debug, warn, request line).
  const logs = await receiver.waitForLogs(9)
  const spans = await traces.waitForSpans(1)
  t.equal(logs.length, 9, '3 records per request arrive')
  t.same(new Set(logs.map((log) => log.scope.name)), new Set(['@o11y/logging']))

  const lines = out.lines()
  t.equal(lines.length, 9, 'stdout JSON still gets every line beside the export')
  for (const [i, line] of lines.entries()) {
    const log = logs.find((l) => l.body === line.message && l.attributes.request_id === line.request_id) as ReceivedLog
    t.ok(log, `line ${i} (${line.message as string}) was exported`)
    t.equal(log.traceId, line.trace_id, 'trace_id in the record\'s own field equals the line\'s')
    t.equal(log.spanId, line.span_id, 'span_id in the record\'s own field equals the line\'s')
    t.equal(log.traceFlags, 1, 'trace_flags: sampled')
    t.notOk('trace_id' in log.attributes || 'span_id' in log.attributes || 'message' in log.attributes || 'level' in log.attributes, 'record fields are not repeated as attributes')
    t.equal(log.severityText, line.level)
    t.equal(Number(BigInt(log.timeUnixNano) / 1_000_000n), Date.parse(line.timestamp as string), 'time of the record is the line\'s timestamp')
  }
  // Every trace id resolves to an exported SERVER span of the same request.
  await traces.waitForSpans(spans.length)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !logs.every((log) => traces.spans().some((s) => s.traceId === log.traceId && s.spanId === log.spanId))) await new Promise((resolve) => setTimeout(resolve, 50))
  for (const log of logs) {
    const span = traces.spans().find((s) => s.traceId === log.traceId && s.spanId === log.spanId)
    t.ok(span, `record "${String(log.body)}" points to an exported span (${log.traceId}/${log.spanId})`)
    t.equal(span?.kind, 2, 'the SERVER span of that request')
  }
  t.equal(new Set(logs.map((log) => log.traceId)).size, 3, 'one trace per request')

  const bySeverity = (text: string): ReceivedLog[] => logs.filter((log) => log.body === text)
  t.same(bySeverity('loading order').map((l) => [l.severityNumber, l.severityText]), [[5, 'DEBUG'], [5, 'DEBUG'], [5, 'DEBUG']], 'debug -> DEBUG (5)')
  t.same(bySeverity('payment retried').map((l) => l.severityNumber), [13, 13, 13], 'warn -> WARN (13)')
  const requestLines = bySeverity('request completed').sort((a, b) => Number(a.attributes.status_code) - Number(b.attributes.status_code))
  t.same(requestLines.map((l) => [l.severityNumber, l.severityText, l.attributes.status_code, l.attributes.route]),
    [[9, 'INFO', 200, '/api/orders/:id'], [9, 'INFO', 200, '/api/orders/:id'], [17, 'ERROR', 500, '/api/orders/:id']], 'info -> INFO (9), error -> ERROR (17)')
  t.equal((requestLines[2]?.attributes.err as Record<string, unknown>).message, 'no such order', 'the error is an attribute, serialized as on stdout')

  const retried = bySeverity('payment retried')[0] as ReceivedLog
  t.equal(retried.attributes.authorization, '[REDACTED]', 'secrets are redacted before export')
  t.same(retried.attributes.card, { cvv: '[REDACTED]', last4: '4242' }, 'nested secrets too; other fields kept as values')
  t.notMatch(JSON.stringify(logs), /s3cr3t-t0ken|"123"/, 'no secret anywhere in the export')
  t.equal(retried.attributes.logger, 'orders')

  t.equal(logs[0]?.resource['service.name'], 'otlp-logs-test', 'service.name of the tracing resource')
  const spanInstance = traces.spans()[0]?.resource['service.instance.id']
  t.ok(typeof spanInstance === 'string' && spanInstance.length > 0)
  t.equal(logs[0]?.resource['service.instance.id'], spanInstance, 'same service.instance.id as the spans: one resource')
  const stats = loggingStats(app.log as never)
  t.match(stats, { written: 0, otlpExported: 9, otlpDropped: 0, otlpFailed: 0, otlpQueued: 0 }, 'counted as exported')
}

t.test('OTLP/HTTP protobuf: records with the request\'s trace and span ids, severity, redaction, tracing\'s resource', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  await exportedThroughApp(t, receiver, 'http/protobuf')
  t.ok(receiver.requests.every((r) => r.path === '/v1/logs' && r.contentType === 'application/x-protobuf'))
})

t.test('OTLP/gRPC: the same', async (t) => {
  const receiver = await startOtlpGrpcReceiver()
  t.teardown(() => receiver.close())
  await exportedThroughApp(t, receiver, 'grpc')
  t.ok(receiver.requests.every((r) => r.path === '/opentelemetry.proto.collector.logs.v1.LogsService/Export'))
})

t.test('the standard variables turn export on; stdout stays the default; otlp: false wins', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const saved = { ...process.env }
  t.teardown(() => { process.env = saved })
  process.env.OTEL_LOGS_EXPORTER = 'otlp'
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf'
  const out = capture()
  const log = createLogger({ destination: out })
  log.info({ password: 'hunter2' }, 'from env')
  const off = createLogger({ destination: capture(), otlp: false })
  off.info('not exported')
  t.ok(await flushLogs(log), 'flushed')
  const logs = await receiver.waitForLogs(1)
  t.same(logs.map((l) => [l.body, l.attributes.password, l.traceId]), [['from env', '[REDACTED]', '']], 'outside a span: no trace context')
  t.equal(out.lines()[0]?.message, 'from env')
  t.equal(loggingStats(off), undefined, 'no OTLP, stream destination: no stats')
  delete process.env.OTEL_LOGS_EXPORTER
  t.equal(loggingStats(createLogger({ destination: capture() })), undefined, 'without the variable: no export')

  // A huge value: the line cap applies before export, so the record is the shortened line.
  const capped = capture()
  const big = createLogger({ destination: capped, maxLineBytes: 1024, otlp: { endpoint: receiver.logsUrl } })
  big.error({ blob: 'x'.repeat(200_000), api_key: 'k-123' }, 'huge')
  t.ok(await flushLogs(big))
  const [record] = (await receiver.waitForLogs(2)).filter((l) => l.body === 'huge')
  const written = capped.lines()[0]!
  t.ok(Buffer.byteLength(capped.text()) <= 1024, 'the stdout line is capped')
  t.equal(record?.attributes.blob, written.blob, 'the exported value is the capped one')
  t.ok(String(record?.attributes.blob).length < 1024, `shortened (${String(record?.attributes.blob).length} chars)`)
  t.equal(record?.attributes.truncated, written.truncated, 'with the truncated marker field of the line')
  t.equal(record?.attributes.api_key, '[REDACTED]')
  t.equal(record?.severityNumber, 17)
})

t.test('bad OTLP settings are coded errors at creation', async (t) => {
  const saved = { ...process.env }
  t.teardown(() => { process.env = saved })
  t.throws(() => createLogger({ otlp: { protocol: 'http/json' as never } }), { code: ERROR_CODES.INVALID_OTLP })
  t.throws(() => createLogger({ otlp: { endpoint: 'localhost:4318' } }), { code: ERROR_CODES.INVALID_OTLP })
  t.throws(() => createLogger({ otlp: { maxQueueSize: 0 } }), { code: ERROR_CODES.INVALID_OTLP })
  t.throws(() => createLogger({ otlp: { maxQueueSize: 10, maxExportBatchSize: 20 } }), { code: ERROR_CODES.INVALID_OTLP })
  t.throws(() => createLogger({ otlp: { endpiont: 'x' } as never }), { code: ERROR_CODES.UNKNOWN_OPTION })
  t.throws(() => createLogger({ otlp: 'yes' as never }), { code: ERROR_CODES.INVALID_OTLP })
  process.env.OTEL_LOGS_EXPORTER = 'otlp'
  process.env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL = 'thrift'
  t.throws(() => createLogger({ destination: capture() }), { code: ERROR_CODES.INVALID_OTLP, message: /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL/ })
})

const REQUESTS = 600
const LIMITS = { maxQueueSize: 100, maxExportBatchSize: 50, scheduledDelayMillis: 20, exportTimeoutMillis: 300, shutdownTimeoutMillis: 1000 }

for (const mode of ['dead', 'refuse', 'hang'] as const) {
  t.test(`${mode} log collector under ${REQUESTS} requests: every request answered, bounded memory, records dropped and counted, bounded shutdown`, async (t) => {
    let endpoint: string
    let receiver: OtlpReceiver | undefined
    if (mode === 'dead') {
      endpoint = `http://127.0.0.1:${await closedPort()}/v1/logs`
    } else {
      receiver = await startOtlpReceiver({ mode })
      endpoint = receiver.logsUrl
    }
    t.teardown(() => receiver?.close())
    const warned = warnings.length
    const out = capture()
    const app = Fastify(fastifyLoggerOptions({ destination: out, otlp: { endpoint, ...LIMITS } }))
    await app.register(o11yLogging)
    app.get('/work', async function work (request) {
      request.log.info({ step: 'work' }, 'working')
      return { ok: true }
    })
    const heapBefore = retainedHeap()
    let maxQueued = 0
    const statuses: number[] = []
    for (let i = 0; i < REQUESTS; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, async () => await app.inject({ url: '/work' })))
      statuses.push(...batch.map((res) => res.statusCode))
      maxQueued = Math.max(maxQueued, loggingStats(app.log as never)?.otlpQueued ?? 0)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const heapGrowthMb = (retainedHeap() - heapBefore) / 1024 / 1024
    t.equal(statuses.length, REQUESTS)
    t.ok(statuses.every((s) => s === 200), 'every request answered 200')
    t.equal(out.lines().length, REQUESTS * 2, 'every stdout line written')
    t.ok(maxQueued <= LIMITS.maxQueueSize, `queue stays within its bound (max ${maxQueued} <= ${LIMITS.maxQueueSize})`)

    const started = Date.now()
    await app.close()
    const closeMs = Date.now() - started
    t.ok(closeMs < LIMITS.shutdownTimeoutMillis + 500, `app.close() within its bound (${closeMs} ms, bound ${LIMITS.shutdownTimeoutMillis} ms)`)
    const stopStarted = Date.now()
    await flushLogs(app.log as never, { shutdown: true, timeoutMs: LIMITS.shutdownTimeoutMillis })
    const stopMs = Date.now() - stopStarted
    t.ok(stopMs < LIMITS.shutdownTimeoutMillis + 500, `flushLogs({ shutdown }) within its bound (${stopMs} ms)`)

    const stats = loggingStats(app.log as never)!
    const emitted = REQUESTS * 2
    t.equal(stats.otlpExported, 0, 'nothing reached a collector')
    t.ok(stats.otlpDropped > 0, `records dropped and counted (${stats.otlpDropped})`)
    t.ok(stats.otlpFailed > 0, `failed exports counted (${stats.otlpFailed} records)`)
    t.ok(stats.otlpDropped + stats.otlpFailed + stats.otlpQueued <= emitted && stats.otlpDropped + stats.otlpFailed + stats.otlpQueued >= emitted - LIMITS.maxQueueSize - LIMITS.maxExportBatchSize,
      `every record accounted for (dropped ${stats.otlpDropped} + failed ${stats.otlpFailed} + queued ${stats.otlpQueued} of ${emitted})`)
    // The queue holds at most 100 records; the 1,200 stdout lines captured above are retained too.
    t.ok(heapGrowthMb < 16, `retained heap growth bounded (${heapGrowthMb.toFixed(1)} MB after a full collection, bound 16 MB)`)
    const mine = warnings.slice(warned)
    t.equal(mine.filter((w) => w.code === ERROR_CODES.OTLP_EXPORT_FAILED).length, 1, 'export failure warned once')
    t.equal(mine.filter((w) => w.code === ERROR_CODES.OTLP_DROPPED).length, 1, 'full queue warned once')
    if (receiver !== undefined) t.ok(receiver.openRequests().max <= 2, `one export in flight at a time (max open ${receiver.openRequests().max})`)
    t.comment(`${mode}: ${REQUESTS} requests, ${emitted} records: exported ${stats.otlpExported}, dropped ${stats.otlpDropped}, failed ${stats.otlpFailed}, queued ${stats.otlpQueued}; max queue ${maxQueued}; heap +${heapGrowthMb.toFixed(1)} MB; close ${closeMs} ms; shutdown ${stopMs} ms`)
  })
}

t.test('stdout-only loads no OTLP package; with export on they load on the first record, and a dead collector does not keep the process alive', async (t) => {
  const dist = JSON.stringify(require.resolve('../dist/index.js'))
  const port = await closedPort()
  const script = (otlp: string): string => `
    const started = Date.now()
    const { createLogger } = require(${dist})
    const log = createLogger({ destination: 2, otlp: ${otlp} })
    const loaded = () => Object.keys(require.cache).filter((k) => /sdk-logs|exporter-logs|[\\\\/]@opentelemetry[\\\\/]resources/.test(k)).length
    const before = loaded()
    log.info({ password: 'x' }, 'hello')
    process.on('exit', () => process.stdout.write(JSON.stringify({ before, after: loaded(), ms: Date.now() - started }) + '\\n'))
  `
  const { execFileSync } = await import('node:child_process')
  const run = (otlp: string): { before: number, after: number, ms: number } => {
    const out = execFileSync(process.execPath, ['-e', script(otlp)], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '', OTEL_LOGS_EXPORTER: '' }, stdio: ['ignore', 'pipe', 'ignore'] })
    return JSON.parse(out.trim().split('\n').pop()!) as { before: number, after: number, ms: number }
  }
  const off = run('false')
  t.same([off.before, off.after], [0, 0], 'stdout only: no Logs SDK, exporter or resources module loaded')
  for (const protocol of ['http/protobuf', 'grpc']) {
    const on = run(`{ protocol: '${protocol}', endpoint: 'http://127.0.0.1:${port}${protocol === 'grpc' ? '' : '/v1/logs'}' }`)
    t.equal(on.before, 0, `${protocol}: nothing loaded at creation`)
    t.ok(on.after > 0, `${protocol}: loaded on the first record (${on.after} modules)`)
    // The export in flight holds the event loop at most scheduledDelayMillis + exportTimeoutMillis (1 s + 3 s).
    t.ok(on.ms < 1000 + 3000 + 1500, `${protocol}: a dead collector holds exit only within the export bound (${on.ms} ms to exit)`)
  }
})
