import t from 'tap'
import { gzipSync } from 'node:zlib'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { createMemoryTracing, decodeTraces, startOtlpReceiver } from '../src/index'

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
  t.equal((await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', body })).status, 404)
  t.equal((await fetch(receiver.tracesUrl, { method: 'POST', body: Buffer.from([0xff, 0xff, 0xff]) })).status, 400)
  await t.rejects(receiver.waitForSpans(10, 50), /4 of 10 spans/)
})

t.test('refuse mode answers 503, hang mode never answers', async (t) => {
  const refusing = await startOtlpReceiver({ mode: 'refuse' })
  t.teardown(() => refusing.close())
  t.equal((await fetch(refusing.tracesUrl, { method: 'POST', body: 'x' })).status, 503)
  t.equal(refusing.requests.length, 1)

  const hanging = await startOtlpReceiver({ mode: 'hang' })
  await t.rejects(fetch(hanging.tracesUrl, { method: 'POST', body: 'x', signal: AbortSignal.timeout(200) }))
  t.equal(hanging.requests.length, 1)
  await hanging.close()
})

t.test('decodeTraces of an empty request', async (t) => {
  t.same(decodeTraces(new Uint8Array()), [])
})
