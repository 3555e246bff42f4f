import t from 'tap'
import { SamplingDecision } from '@opentelemetry/sdk-trace'
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api'
import { startOtlpReceiver } from '@o11y/test-utils'
import { startTracing, withSpan, type WarningLogger } from '../src/index'
import { createSampler } from '../src/sdk'
import { readEnv, parseResourceAttributes } from '../src/env'

function capture (): WarningLogger & { codes: string[], messages: string[] } {
  const codes: string[] = []
  const messages: string[] = []
  return { codes, messages, warn (message, code) { codes.push(code); messages.push(message) } }
}

t.test('defaults with an empty environment', async (t) => {
  const logger = capture()
  t.same(readEnv({}, logger), {
    disabled: false,
    resourceAttributes: {},
    exporters: ['otlp'],
    protocol: 'http/protobuf',
    sampler: 'parentbased_always_on',
    samplerRatio: 1,
    propagators: ['tracecontext', 'baggage'],
    resourceDetectors: ['all']
  })
  t.same(logger.codes, [])
})

t.test('valid values are read', async (t) => {
  const logger = capture()
  const env = readEnv({
    OTEL_SDK_DISABLED: 'TRUE',
    OTEL_SERVICE_NAME: 'orders',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod, team=pay%20ments,',
    OTEL_TRACES_EXPORTER: 'otlp,console',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_PROPAGATORS: 'tracecontext, B3,b3',
    OTEL_NODE_RESOURCE_DETECTORS: 'host,process,container'
  }, logger)
  t.same(env, {
    disabled: true,
    serviceName: 'orders',
    resourceAttributes: { 'deployment.environment.name': 'prod', team: 'pay ments' },
    exporters: ['otlp', 'console'],
    protocol: 'http/protobuf',
    endpoint: 'http://collector:4318/v1/traces',
    baseEndpoint: 'http://collector:4318/',
    sampler: 'parentbased_traceidratio',
    samplerRatio: 0.25,
    propagators: ['tracecontext', 'b3'],
    resourceDetectors: ['host', 'process', 'container']
  })
  t.same(logger.codes, [])
  t.equal(readEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x.example/custom' }, logger).endpoint, 'https://x.example/custom', 'the traces endpoint is used as is')
  t.equal(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, logger).endpoint, 'http://c:4317', 'grpc takes the base endpoint')
  t.same(readEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'false' }, logger).exporters, ['none'])
  t.match(readEnv({
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BSP_EXPORT_TIMEOUT: '2000',
    OTEL_BSP_MAX_QUEUE_SIZE: '500',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64'
  }, logger), { scheduledDelayMillis: 100, exportTimeoutMillis: 2000, maxQueueSize: 500, maxExportBatchSize: 50, attributeValueLengthLimit: 64 })
  t.equal(readEnv({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64', OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '32' }, logger).attributeValueLengthLimit, 32, 'the span-specific limit wins')
})

t.test('each bad value: one warning naming the variable, then the default', async (t) => {
  const cases: Array<[Record<string, string>, string, Record<string, unknown>]> = [
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED', { disabled: false }],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'novalue,a=b' }, 'OTEL_RESOURCE_ATTRIBUTES', { resourceAttributes: {} }],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'a=%E0%A4%A' }, 'OTEL_RESOURCE_ATTRIBUTES', { resourceAttributes: {} }],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER', { exporters: ['otlp'] }],
    [{ OTEL_TRACES_EXPORTER: 'none,console' }, 'OTEL_TRACES_EXPORTER', { exporters: ['otlp'] }],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', { protocol: 'http/protobuf' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', { endpoint: undefined }],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { endpoint: undefined }],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER', { sampler: 'parentbased_always_on' }],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG', { samplerRatio: 1 }],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG', { samplerRatio: 1 }],
    [{ OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY', { scheduledDelayMillis: undefined }],
    [{ OTEL_BSP_EXPORT_TIMEOUT: '-1' }, 'OTEL_BSP_EXPORT_TIMEOUT', { exportTimeoutMillis: undefined }],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '1.5' }, 'OTEL_BSP_MAX_QUEUE_SIZE', { maxQueueSize: undefined }],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', { maxQueueSize: 10, maxExportBatchSize: 10 }],
    [{ OTEL_PROPAGATORS: 'tracecontext,xray' }, 'OTEL_PROPAGATORS', { propagators: ['tracecontext', 'baggage'] }],
    [{ OTEL_PROPAGATORS: ',' }, 'OTEL_PROPAGATORS', { propagators: ['tracecontext', 'baggage'] }],
    [{ OTEL_NODE_RESOURCE_DETECTORS: 'host,gcp' }, 'OTEL_NODE_RESOURCE_DETECTORS', { resourceDetectors: ['all'] }],
    [{ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' }, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', { attributeValueLengthLimit: undefined }],
    [{ OTEL_SPAN_EVENT_COUNT_LIMIT: '-1' }, 'OTEL_SPAN_EVENT_COUNT_LIMIT', { spanLimits: undefined }],
    [{ OTEL_ATTRIBUTE_COUNT_LIMIT: '1e400' }, 'OTEL_ATTRIBUTE_COUNT_LIMIT', { spanLimits: undefined }],
    [{ OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: 'many', OTEL_SPAN_LINK_COUNT_LIMIT: '3' }, 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', { spanLimits: { linkCountLimit: 3 } }],
    [{ OTEL_LOG_LEVEL: 'loud' }, 'OTEL_LOG_LEVEL', { logLevel: undefined }]
  ]
  for (const [env, name, expected] of cases) {
    const logger = capture()
    const config = readEnv(env, logger)
    t.equal(logger.codes.length, 1, `${name}=${Object.values(env).join(' ')}: one warning`)
    t.equal(logger.codes[0], 'O11Y_ERR_TRACING_INVALID_ENV')
    t.match(logger.messages[0], name)
    t.match(config, expected)
  }
})

t.test('span count limits and OTEL_LOG_LEVEL are read; the specific variable wins over the general one', async (t) => {
  const logger = capture()
  const env = readEnv({
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '4',
    OTEL_ATTRIBUTE_COUNT_LIMIT: '9',
    OTEL_SPAN_EVENT_COUNT_LIMIT: '0',
    OTEL_SPAN_LINK_COUNT_LIMIT: '2',
    OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: '5',
    OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '6',
    OTEL_LOG_LEVEL: 'Debug'
  }, logger)
  t.same(env.spanLimits, { attributeCountLimit: 4, eventCountLimit: 0, linkCountLimit: 2, attributePerEventCountLimit: 5, attributePerLinkCountLimit: 6 })
  t.equal(env.logLevel, 'debug')
  t.same(readEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '9' }, logger).spanLimits, { attributeCountLimit: 9 }, 'the general variable alone applies')
  t.same(logger.codes, [])
})

t.test('startTracing({ env }) reads limits and resource attributes from that env only, never from process.env', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  // What the surrounding process says must not leak into an instance given its own environment.
  const saved = { ...process.env }
  process.env.OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT = '1'
  process.env.OTEL_RESOURCE_ATTRIBUTES = 'leaked=from-process-env'
  process.env.OTEL_SERVICE_NAME = 'process-env-service'
  process.env.OTEL_LOG_LEVEL = 'all'
  t.teardown(() => { process.env = saved })
  const handle = startTracing({
    env: { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2', OTEL_RESOURCE_ATTRIBUTES: 'team=payments', OTEL_SERVICE_NAME: 'given-env' },
    endpoint: receiver.tracesUrl,
    scheduledDelayMillis: 10,
    fastify: false
  })
  withSpan('limited', () => {}, { a: 1, b: 2, c: 3, d: 4 })
  await handle.shutdown()
  const [span] = await receiver.waitForSpans(1)
  t.equal(Object.keys(span?.attributes ?? {}).length, 2, 'two attributes kept (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=2 of the given env)')
  t.match(span?.resource, { 'service.name': 'given-env', team: 'payments' })
  t.notOk(span?.resource.leaked, 'nothing from process.env OTEL_RESOURCE_ATTRIBUTES')
})

t.test('parseResourceAttributes', async (t) => {
  t.same(parseResourceAttributes('a=1,b=x%2Cy'), { a: '1', b: 'x,y' })
  t.equal(parseResourceAttributes('=1'), null)
  t.equal(parseResourceAttributes('a b=1'), null)
})

t.test('samplers by name', async (t) => {
  const sample = (name: Parameters<typeof createSampler>[0], ratio = 1) =>
    createSampler(name, ratio).shouldSample(ROOT_CONTEXT, '0af7651916cd43dd8448eb211c80319c', 'x', SpanKind.SERVER, {}, []).decision
  t.equal(sample('always_on'), SamplingDecision.RECORD_AND_SAMPLED)
  t.equal(sample('always_off'), SamplingDecision.NOT_RECORD)
  t.equal(sample('traceidratio', 0), SamplingDecision.NOT_RECORD)
  t.equal(sample('traceidratio', 1), SamplingDecision.RECORD_AND_SAMPLED)
  t.equal(sample('parentbased_always_on'), SamplingDecision.RECORD_AND_SAMPLED)
  t.equal(sample('parentbased_always_off'), SamplingDecision.NOT_RECORD)
  t.equal(sample('parentbased_traceidratio', 0), SamplingDecision.NOT_RECORD)
  // parent-based: a sampled remote parent wins over the root sampler
  const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true })
  t.equal(createSampler('parentbased_always_off', 1).shouldSample(parent, '0af7651916cd43dd8448eb211c80319c', 'x', SpanKind.SERVER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED)
})

t.test('startTracing from the environment: endpoint, service name, resource attributes', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const handle = startTracing({
    env: {
      OTEL_SERVICE_NAME: 'env-service',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=loses,team=payments',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_EXPORTER: 'otlp'
    },
    scheduledDelayMillis: 10,
    fastify: false
  })
  withSpan('from_env', () => {})
  await handle.shutdown()
  const [span] = await receiver.waitForSpans(1)
  t.equal(span?.name, 'from_env')
  t.match(span?.resource, { 'service.name': 'env-service', team: 'payments' })
  // The SDK's detectors (all by default) add host, process and service instance attributes.
  t.match(span?.resource, { 'host.name': String, 'process.pid': process.pid, 'process.runtime.name': 'nodejs', 'service.instance.id': String, 'telemetry.sdk.language': 'nodejs' })
})

t.test('OTEL_NODE_RESOURCE_DETECTORS picks the detectors; options.resourceAttributes win over detected values', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const handle = startTracing({
    env: { OTEL_NODE_RESOURCE_DETECTORS: 'process', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    resourceAttributes: { 'process.pid': 1 },
    serviceName: 'detected',
    scheduledDelayMillis: 10,
    fastify: false
  })
  withSpan('detectors', () => {})
  await handle.shutdown()
  const [span] = await receiver.waitForSpans(1)
  t.match(span?.resource, { 'service.name': 'detected', 'process.runtime.name': 'nodejs', 'process.pid': 1 })
  t.notOk(span?.resource['host.name'], 'the host detector was not asked for')
})

t.test('OTEL_PROPAGATORS=tracecontext,baggage,b3: a B3 header continues the caller\'s trace', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const handle = startTracing({
    env: { OTEL_PROPAGATORS: 'tracecontext,baggage,b3', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    scheduledDelayMillis: 10
  })
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  app.get('/b3', async () => ({ ok: true }))
  const res = await app.inject({ url: '/b3', headers: { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } })
  t.equal(res.statusCode, 200)
  await app.close()
  await handle.shutdown()
  const spans = await receiver.waitForSpans(1)
  const server = spans.find((s) => s.name === 'GET /b3')
  t.equal(server?.traceId, '80f198ee56343ba864fe8b2a57d3eff7', 'the SERVER span joins the B3 trace')
  t.equal(server?.parentSpanId, 'e457b5a2e4d86bd1')
})

t.test('a bad OTEL_PROPAGATORS value: one warning, and the W3C default still accepts traceparent', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const logger = capture()
  const handle = startTracing({
    env: { OTEL_PROPAGATORS: 'b3,jaegerish', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    scheduledDelayMillis: 10,
    logger
  })
  t.same(logger.codes, ['O11Y_ERR_TRACING_INVALID_ENV'])
  t.match(logger.messages[0], 'OTEL_PROPAGATORS')
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  app.get('/w3c', async () => ({ ok: true }))
  await app.inject({ url: '/w3c', headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } })
  await app.close()
  await handle.shutdown()
  const spans = await receiver.waitForSpans(1)
  t.equal(spans.find((s) => s.name === 'GET /w3c')?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'traceparent is used, b3 is not')
})

t.test('OTEL_BSP_* and the attribute limit apply to the running SDK', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const handle = startTracing({
    env: { OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_BSP_MAX_QUEUE_SIZE: '3', OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '5' },
    endpoint: receiver.tracesUrl,
    fastify: false,
    logger: capture()
  })
  t.teardown(() => handle.shutdown())
  // Batch size follows the queue size (3): 3 spans go out at once, 3 wait, the last 2 are dropped.
  for (let i = 0; i < 8; i++) withSpan(`s${i}`, () => {}, { long: 'abcdefghij' })
  t.match(handle.stats(), { dropped: 2, queued: 3 }, 'queue of 3: two dropped')
  const spans = await receiver.waitForSpans(6)
  t.same(spans.map((s) => s.attributes.long), Array(6).fill('abcde'))
})

t.test('a bad environment still starts tracing, with defaults and one warning each', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const logger = capture()
  const handle = startTracing({
    env: { OTEL_TRACES_SAMPLER: 'bogus', OTEL_SDK_DISABLED: 'maybe', OTEL_EXPORTER_OTLP_PROTOCOL: 'smoke-signals' },
    endpoint: receiver.tracesUrl,
    scheduledDelayMillis: 10,
    fastify: false,
    logger
  })
  t.equal(handle.enabled, true)
  withSpan('still_traced', () => {})
  await handle.shutdown()
  t.same((await receiver.waitForSpans(1)).map((s) => s.name), ['still_traced'])
  t.same(logger.codes, ['O11Y_ERR_TRACING_INVALID_ENV', 'O11Y_ERR_TRACING_INVALID_ENV', 'O11Y_ERR_TRACING_INVALID_ENV'])
})

t.test('OTEL_TRACES_SAMPLER=always_off records nothing', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const handle = startTracing({ env: { OTEL_TRACES_SAMPLER: 'always_off' }, endpoint: receiver.tracesUrl, fastify: false })
  let recording = true
  withSpan('unsampled', (span) => { recording = span.isRecording() })
  await handle.shutdown()
  t.equal(recording, false)
  t.same(receiver.spans(), [])
})

t.test('invalid startTracing options throw a coded error naming the option', async (t) => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ serviceName: '' }, 'serviceName'],
    [{ exporter: 'zipkin' }, 'exporter'],
    [{ exporter: {} }, 'exporter'],
    [{ protocol: 'http/json' }, 'protocol'],
    [{ endpoint: 'localhost:4318' }, 'endpoint'],
    [{ sampler: 'often' }, 'sampler'],
    [{ samplerRatio: 2 }, 'samplerRatio'],
    [{ spanProcessors: [{}] }, 'spanProcessors'],
    [{ maxQueueSize: 0 }, 'maxQueueSize'],
    [{ maxQueueSize: 10, maxExportBatchSize: 20 }, 'maxExportBatchSize'],
    [{ shutdownTimeoutMillis: 1.5 }, 'shutdownTimeoutMillis'],
    [{ instrumentations: { mysql: true } }, 'instrumentations.mysql'],
    [{ instrumentations: { pg: 'yes' } }, 'instrumentations.pg'],
    [{ instrumentations: ['pg'] }, 'instrumentations[0]'],
    [{ instrumentations: { extra: [{}] } }, 'instrumentations.extra[0]'],
    [{ instrumentations: 'all' }, 'instrumentations'],
    [{ pgParameterValues: 1 }, 'pgParameterValues'],
    [{ fastify: { hookSpans: 'on' } }, 'fastify.hookSpans'],
    [{ fastify: 'yes' }, 'fastify'],
    [{ logger: console.log }, 'logger'],
    [{ env: 'x' }, 'env'],
    [{ resourceAttributes: [] }, 'resourceAttributes']
  ]
  for (const [options, name] of bad) {
    t.throws(() => startTracing(options as any), { code: 'O11Y_ERR_TRACING_INVALID_OPTION', message: new RegExp(`@o11y/tracing: option "${name.replace(/[.[\]]/g, '\\$&')}"`) }, name)
  }
  t.throws(() => startTracing(null as any), { code: 'O11Y_ERR_TRACING_INVALID_OPTION' })
})

t.test('a throwing custom logger cannot break start-up', async (t) => {
  const handle = startTracing({ env: { OTEL_TRACES_SAMPLER: 'bogus' }, exporter: 'none', fastify: false, logger: { warn () { throw new Error('logger down') } } })
  t.equal(handle.enabled, true)
  await handle.shutdown()
})

t.test('OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG drive the running SDK', async (t) => {
  const Fastify = (await import('fastify')).default
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const sampledParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

  // Ratio 0 at the root: nothing of our own is sampled, but a sampled caller's trace is continued.
  const handle = startTracing({
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
    endpoint: receiver.tracesUrl,
    scheduledDelayMillis: 10,
    fastify: { lifecycleSpans: false }
  })
  const app = Fastify()
  app.get('/sampled', async () => 'ok')
  await app.inject('/sampled')
  await app.inject({ url: '/sampled', headers: { traceparent: sampledParent } })
  await app.close()
  await handle.shutdown()
  const spans = receiver.spans()
  t.equal(spans.length, 1, 'only the request with a sampled parent is exported')
  t.equal(spans[0]?.traceId, '0af7651916cd43dd8448eb211c80319c')
  t.equal(spans[0]?.parentSpanId, 'b7ad6b7169203331')

  // traceidratio ignores the parent: ratio 0 drops even the sampled caller's trace; ratio 1 keeps all.
  for (const [arg, expected] of [['0', 0], ['1', 2]] as const) {
    const r = await startOtlpReceiver()
    t.teardown(() => r.close())
    const h = startTracing({ env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg }, endpoint: r.tracesUrl, scheduledDelayMillis: 10, fastify: { lifecycleSpans: false } })
    const a = Fastify()
    a.get('/ratio', async () => 'ok')
    await a.inject('/ratio')
    await a.inject({ url: '/ratio', headers: { traceparent: sampledParent } })
    await a.close()
    await h.shutdown()
    t.equal(r.spans().length, expected, `traceidratio with OTEL_TRACES_SAMPLER_ARG=${arg}: ${expected} spans`)
  }
})

t.test('options.protocol over a base endpoint from the environment: the path follows the protocol used', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  // The environment says grpc (no path), the option says http/protobuf: /v1/traces must be appended.
  const handle = startTracing({
    protocol: 'http/protobuf',
    env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    scheduledDelayMillis: 10,
    fastify: false
  })
  withSpan('path_follows_protocol', () => {})
  await handle.shutdown()
  t.same(receiver.spans().map((s) => s.name), ['path_follows_protocol'])
  t.same(receiver.requests.map((r) => r.path), ['/v1/traces'])
})
