import t from 'tap'
import http2 from 'node:http2'
import { gzipSync } from 'node:zlib'
import { ROOT_CONTEXT, SeverityNumber, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { createMemoryTracing, decodeGrpcMessages, decodeMetrics, decodeTraces, OTLP_GRPC_LOGS_EXPORT_PATH, OTLP_GRPC_METRICS_EXPORT_PATH, OTLP_GRPC_TRACE_EXPORT_PATH, startOtlpGrpcReceiver, startOtlpReceiver } from '../src/index'

async function someSpans () {
  const memory = createMemoryTracing()
  const tracer = trace.getTracer('receiver-test', '0.1.0')
  tracer.startActiveSpan('GET /x', { kind: SpanKind.SERVER, attributes: { 'http.response.status_code': 200, 'http.route': '/x', ok: true, ratio: 0.5, tags: ['a', 'b'] } }, (span) => {
    tracer.startSpan('child').end()
    span.addEvent('something', { n: 1 })
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' })
    span.end()
  })
  const spans = memory.spans()
  await memory.shutdown()
  return spans
}

t.test('decodes what an OTLP exporter serializes, over HTTP', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const body = ProtobufTraceSerializer.serializeRequest(await someSpans())!
  const res = await fetch(receiver.tracesUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
  t.equal(res.status, 200)
  const spans = await receiver.waitForSpans(2)
  const server = spans.find((s) => s.name === 'GET /x')!
  const child = spans.find((s) => s.name === 'child')!
  t.equal(server.kind, 2)
  t.equal(server.parentSpanId, '')
  t.equal(child.parentSpanId, server.spanId)
  t.equal(child.traceId, server.traceId)
  t.match(server.traceId, /^[0-9a-f]{32}$/)
  t.same(server.attributes, { 'http.response.status_code': 200, 'http.route': '/x', ok: true, ratio: 0.5, tags: ['a', 'b'] })
  t.same(server.events, [{ name: 'something', attributes: { n: 1 } }])
  t.same(server.status, { code: 2, message: 'bad' })
  t.same(server.scope, { name: 'receiver-test', version: '0.1.0' })
  t.equal(server.resource['telemetry.sdk.language'], 'nodejs')
  t.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano))
  t.match(receiver.requests, [{ method: 'POST', path: '/v1/traces', contentType: 'application/x-protobuf', spans: 2 }])

  const gz = await fetch(receiver.tracesUrl, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync(body) })
  t.equal(gz.status, 200, 'gzip bodies are accepted')
  t.equal(receiver.spans().length, 4)
  t.equal((await fetch(`${receiver.url}/v1/unknown`, { method: 'POST', body })).status, 404)
  t.equal((await fetch(receiver.tracesUrl, { method: 'POST', body: Buffer.from([0xff, 0xff, 0xff]) })).status, 400)
  await t.rejects(receiver.waitForSpans(10, 50), /4 of 10 spans/)
})

t.test('refuse mode answers 503, hang mode never answers', async (t) => {
  const refusing = await startOtlpReceiver({ mode: 'refuse' })
  t.teardown(() => refusing.close())
  t.equal((await fetch(refusing.tracesUrl, { method: 'POST', body: 'x' })).status, 503)
  t.equal(refusing.requests.length, 1)

  t.same(refusing.openRequests(), { now: 0, max: 1 }, 'answered requests are not open')

  const hanging = await startOtlpReceiver({ mode: 'hang' })
  const controller = new AbortController()
  const pending = fetch(hanging.tracesUrl, { method: 'POST', body: 'x', signal: controller.signal })
  pending.catch(() => {})
  while (hanging.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(hanging.openRequests(), { now: 1, max: 1 }, 'a hanging request stays open')
  controller.abort()
  await t.rejects(pending)
  while (hanging.openRequests().now > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(hanging.openRequests(), { now: 0, max: 1 }, 'until the client gives up')
  t.equal(hanging.requests.length, 1)
  await hanging.close()
})

t.test('decodeTraces of an empty request', async (t) => {
  t.same(decodeTraces(new Uint8Array()), [])
})

// gRPC framing by hand (the real OTLP gRPC exporter is driven against this receiver in packages/tracing).
function grpcCall (url: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: string | undefined, message: string | undefined, data: Buffer }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url)
    session.on('error', reject)
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers })
    const chunks: Buffer[] = []
    let status: string | undefined
    let message: string | undefined
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status'])
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']))
    }
    req.on('response', take)
    req.on('trailers', take)
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('error', reject)
    // A call is complete only with a grpc-status; a stream cut by the server (closed receiver) has none.
    req.on('end', () => {
      session.destroy()
      if (status === undefined) reject(new Error(`no grpc-status (stream reset code ${req.rstCode})`))
      else resolve({ status, message, data: Buffer.concat(chunks) })
    })
    req.end(body)
  })
}

function frame (message: Uint8Array, compressed = false): Buffer {
  const payload = compressed ? gzipSync(message) : Buffer.from(message)
  const prefix = Buffer.alloc(5)
  prefix[0] = compressed ? 1 : 0
  prefix.writeUInt32BE(payload.length, 1)
  return Buffer.concat([prefix, payload])
}

t.test('gRPC receiver: decodes TraceService/Export, answers grpc-status 0 with an empty response', async (t) => {
  const receiver = await startOtlpGrpcReceiver()
  t.teardown(() => receiver.close())
  t.equal(receiver.tracesUrl, receiver.url)
  const message = ProtobufTraceSerializer.serializeRequest(await someSpans())!
  const ok = await grpcCall(receiver.url, OTLP_GRPC_TRACE_EXPORT_PATH, frame(message))
  t.equal(ok.status, '0')
  t.same([...ok.data], [0, 0, 0, 0, 0], 'one empty, uncompressed response message')
  const spans = await receiver.waitForSpans(2)
  const server = spans.find((s) => s.name === 'GET /x')!
  t.equal(server.kind, 2)
  t.equal(spans.find((s) => s.name === 'child')!.parentSpanId, server.spanId)
  t.same(server.scope, { name: 'receiver-test', version: '0.1.0' })
  t.match(receiver.requests, [{ method: 'POST', path: OTLP_GRPC_TRACE_EXPORT_PATH, contentType: 'application/grpc', spans: 2 }])

  const gz = await grpcCall(receiver.url, OTLP_GRPC_TRACE_EXPORT_PATH, frame(message, true), { 'grpc-encoding': 'gzip' })
  t.equal(gz.status, '0', 'gzip-compressed messages are accepted')
  t.equal(receiver.spans().length, 4)
  t.equal((await grpcCall(receiver.url, '/other.Service/Export', frame(message))).status, '12', 'other methods: UNIMPLEMENTED')
  const bad = await grpcCall(receiver.url, OTLP_GRPC_TRACE_EXPORT_PATH, frame(Buffer.from([0xff, 0xff, 0xff])))
  t.equal(bad.status, '3', 'undecodable: INVALID_ARGUMENT')
  t.match(bad.message, /cannot decode/)
  t.equal(receiver.spans().length, 4)
})

t.test('gRPC receiver: refuse answers UNAVAILABLE, hang never answers', async (t) => {
  const refusing = await startOtlpGrpcReceiver({ mode: 'refuse' })
  t.teardown(() => refusing.close())
  const refused = await grpcCall(refusing.url, OTLP_GRPC_TRACE_EXPORT_PATH, frame(new Uint8Array()))
  t.equal(refused.status, '14')
  t.equal(refused.message, 'refused by test receiver')

  const hanging = await startOtlpGrpcReceiver({ mode: 'hang' })
  const pending = grpcCall(hanging.url, OTLP_GRPC_TRACE_EXPORT_PATH, frame(new Uint8Array()))
  pending.catch(() => {})
  while (hanging.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(hanging.spans().length, 0)
  t.same(hanging.openRequests(), { now: 1, max: 1 })
  await hanging.close()
  await t.rejects(pending, /no grpc-status/, 'closing the receiver cuts the hanging call')
})

t.test('decodeGrpcMessages', async (t) => {
  t.same(decodeGrpcMessages(Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.from('c'), true)]), 'gzip').map(String), ['ab', 'c'])
  t.same(decodeGrpcMessages(Buffer.alloc(0)), [])
  t.throws(() => decodeGrpcMessages(Buffer.from([0, 0, 0])), /truncated gRPC message prefix/)
  t.throws(() => decodeGrpcMessages(Buffer.from([0, 0, 0, 0, 9, 1])), /truncated gRPC message$/)
  t.throws(() => decodeGrpcMessages(frame(Buffer.from('x'), true)), /unsupported grpc-encoding identity/)
})

// Metrics: the real OTLP metrics exporters (proto and gRPC) are driven against these receivers in
// packages/metrics test/otlp.test.ts; here the hostile inputs.
t.test('metrics: undecodable bodies are refused, empty ones accepted, waitForMetrics times out', async (t) => {
  t.same(decodeMetrics(new Uint8Array()), [])
  const http = await startOtlpReceiver()
  t.teardown(() => http.close())
  t.equal(http.metricsUrl, `${http.url}/v1/metrics`)
  const bad = await fetch(http.metricsUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff]) })
  t.equal(bad.status, 400)
  t.match(await bad.text(), /cannot decode/)
  const empty = await fetch(http.metricsUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(0)) })
  t.equal(empty.status, 200)
  t.match(http.requests, [{ path: '/v1/metrics' }, { path: '/v1/metrics', metrics: 0 }])
  await t.rejects(http.waitForMetrics(() => true, 100), /no matching metric after 100 ms \(1 metrics exports, 0 metrics received\)/)

  const grpc = await startOtlpGrpcReceiver()
  t.teardown(() => grpc.close())
  t.equal(grpc.metricsUrl, grpc.url)
  const g = await grpcCall(grpc.url, OTLP_GRPC_METRICS_EXPORT_PATH, frame(Buffer.from([0xff, 0xff, 0xff])))
  t.equal(g.status, '3', 'undecodable: INVALID_ARGUMENT')
  t.equal((await grpcCall(grpc.url, OTLP_GRPC_METRICS_EXPORT_PATH, frame(new Uint8Array()))).status, '0')
  t.same(grpc.metrics(), [])
})

async function someLogs () {
  const exporter = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] })
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }
  const logger = provider.getLogger('receiver-test', '0.1.0')
  logger.emit({
    timestamp: 1_700_000_000_123,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'payment retried',
    attributes: { route: '/x', status_code: 502, nested: { a: [1, 'b'] } },
    context: trace.setSpanContext(ROOT_CONTEXT, spanContext)
  })
  logger.emit({ severityNumber: SeverityNumber.INFO, body: 'outside a span' })
  const records = exporter.getFinishedLogRecords()
  await provider.shutdown()
  return records
}

t.test('decodes ExportLogsServiceRequest over HTTP (/v1/logs): body, severity, attributes, trace context', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  t.equal(receiver.logsUrl, `${receiver.url}/v1/logs`)
  const body = ProtobufLogsSerializer.serializeRequest(await someLogs())!
  const res = await fetch(receiver.logsUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
  t.equal(res.status, 200)
  const logs = await receiver.waitForLogs(2)
  const warn = logs.find((l) => l.body === 'payment retried')!
  t.match(warn, {
    severityNumber: 13,
    severityText: 'WARN',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    timeUnixNano: '1700000000123000000',
    scope: { name: 'receiver-test', version: '0.1.0' }
  })
  t.same(warn.attributes, { route: '/x', status_code: 502, nested: { a: [1, 'b'] } })
  t.equal(warn.resource['telemetry.sdk.language'], 'nodejs')
  const plain = logs.find((l) => l.body === 'outside a span')!
  t.match(plain, { traceId: '', spanId: '', traceFlags: 0, severityNumber: 9 })
  t.match(receiver.requests, [{ path: '/v1/logs', logs: 2, spans: 0 }])
  t.equal(receiver.spans().length, 0, 'logs are not taken for spans')
  t.equal((await fetch(receiver.logsUrl, { method: 'POST', body: Buffer.from([0xff, 0xff, 0xff]) })).status, 400)
  await t.rejects(receiver.waitForLogs(5, 50), /2 of 5 log records/)
})

t.test('gRPC receiver: decodes LogsService/Export; refuse and hang apply to logs too', async (t) => {
  const receiver = await startOtlpGrpcReceiver()
  t.teardown(() => receiver.close())
  t.equal(receiver.logsUrl, receiver.url)
  const message = ProtobufLogsSerializer.serializeRequest(await someLogs())!
  const ok = await grpcCall(receiver.url, OTLP_GRPC_LOGS_EXPORT_PATH, frame(message))
  t.equal(ok.status, '0')
  const logs = await receiver.waitForLogs(2)
  t.match(logs.find((l) => l.body === 'payment retried'), { severityNumber: 13, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' })
  t.match(receiver.requests, [{ path: OTLP_GRPC_LOGS_EXPORT_PATH, logs: 2, spans: 0 }])

  const refusing = await startOtlpGrpcReceiver({ mode: 'refuse' })
  t.teardown(() => refusing.close())
  t.equal((await grpcCall(refusing.url, OTLP_GRPC_LOGS_EXPORT_PATH, frame(message))).status, '14')
  t.equal(refusing.logs().length, 0)
})
