import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { SpanKind, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { getActiveTracing, startTracing, type O11yTracingOptions, type StartTracingOptions } from '../src/index'

// Each test starts and stops its own tracing with a fresh exporter (shutdown stops an exporter).
let exporter = new InMemorySpanExporter()
// Tracing must patch http and pg before they are loaded.
const first = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })], fastify: false })
const Fastify = require('fastify') as typeof import('fastify').default
t.before(() => first.shutdown())

async function withTracing (t: Test, options: StartTracingOptions, plugin: O11yTracingOptions): Promise<void> {
  exporter = new InMemorySpanExporter()
  const handle = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })], fastify: plugin, ...options })
  t.teardown(() => handle.shutdown())
}

function allText (spans: ReadableSpan[]): string {
  return JSON.stringify(spans.map((s) => ({
    name: s.name, attributes: s.attributes, status: s.status, links: s.links, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes }))
  })))
}

/** Spans exported so far (SimpleSpanProcessor exports once detected resource attributes settle). */
async function finished (): Promise<ReadableSpan[]> {
  await getActiveTracing()?.forceFlush()
  return exporter.getFinishedSpans()
}

const randomTraceparent = (): string => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`

t.test('untrusted incoming context: 2,000 callers forcing sampled=1 at ratio 0.01 get our sampling, each root linked to the caller', async (t) => {
  await withTracing(t, { sampler: 'parentbased_traceidratio', samplerRatio: 0.01 }, { trustIncomingContext: false })
  const app = Fastify()
  app.get('/edge', async () => 'ok')
  t.teardown(() => app.close())
  const callers = new Set<string>()
  for (let i = 0; i < 2000; i++) {
    const traceparent = randomTraceparent()
    callers.add(traceparent.slice(3, 35))
    const res = await app.inject({ url: '/edge', headers: { traceparent } })
    if (res.statusCode !== 200) t.fail(`request ${i} answered ${res.statusCode}`)
  }
  const servers = (await finished()).filter((s) => s.kind === SpanKind.SERVER)
  const share = servers.length / 2000
  t.comment(`sampled ${servers.length} of 2000 requests (${(share * 100).toFixed(2)}%) with ratio 0.01 and untrusted callers`)
  t.ok(share <= 0.05, `at most 5% sampled (${(share * 100).toFixed(2)}%)`)
  // Our own ratio still samples: about 20 of 2,000 (none at all has a probability of 0.99^2000, 2e-9).
  t.ok(servers.length >= 1, `our sampling still keeps some (${servers.length}), so the link checks below ran`)
  for (const span of servers) {
    t.equal(span.parentSpanContext, undefined, 'a new root')
    t.notOk(callers.has(span.spanContext().traceId), 'not the caller\'s trace id')
    t.equal(span.links.length, 1, 'one link')
    t.ok(callers.has(span.links[0]!.context.traceId), 'the link points at the caller\'s trace')
    t.equal(span.links[0]!.attributes?.['o11y.link.untrusted_parent'], true)
  }
})

t.test('crafted trace ids make no difference when untrusted (ids that a ratio sampler would keep)', async (t) => {
  await withTracing(t, { sampler: 'traceidratio', samplerRatio: 0.01 }, { trustIncomingContext: false })
  const app = Fastify()
  app.get('/edge', async () => 'ok')
  t.teardown(() => app.close())
  for (let i = 0; i < 1000; i++) {
    // The lowest 8 bytes decide TraceIdRatioBasedSampler; all zeros there is always kept.
    await app.inject({ url: '/edge', headers: { traceparent: `00-${randomBytes(8).toString('hex')}0000000000000001-${randomBytes(8).toString('hex')}-01` } })
  }
  const sampled = (await finished()).length
  t.comment(`crafted ids: ${sampled} of 1000 sampled`)
  t.ok(sampled <= 50, `at most 5% sampled (${sampled})`)
})

t.test('trusted (the default) keeps the caller\'s trace; a predicate trusts only the gateway', async (t) => {
  await withTracing(t, {}, { trustIncomingContext: (request) => request.headers['x-gateway'] === 'yes' })
  const app = Fastify()
  app.get('/p', async () => 'ok')
  t.teardown(() => app.close())
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  await app.inject({ url: '/p', headers: { traceparent, 'x-gateway': 'yes' } })
  await app.inject({ url: '/p', headers: { traceparent } })
  const [viaGateway, direct] = (await finished())
  t.equal(viaGateway?.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'gateway request continues the trace')
  t.not(direct?.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'direct request starts its own')
  t.equal(direct?.links[0]?.context.spanId, '00f067aa0ba902b7')
})

t.test('a throwing trust predicate: the request is served, treated as untrusted, counted', async (t) => {
  await withTracing(t, {}, { trustIncomingContext: () => { throw new Error('predicate bug') } })
  const before = getActiveTracing()?.stats().hookErrors ?? Number.NaN
  const app = Fastify()
  app.get('/p', async () => 'ok')
  t.teardown(() => app.close())
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: '/p', headers: { traceparent: randomTraceparent() } })
    t.equal(res.statusCode, 200)
  }
  const spans = await finished()
  t.equal(spans.length, 3)
  for (const span of spans) t.equal(span.parentSpanContext, undefined, 'untrusted on failure')
  t.equal((getActiveTracing()?.stats().hookErrors ?? Number.NaN) - before, 3, 'each failure counted in stats().hookErrors')
})

t.test(`the ${'O11Y_TRACING_TRUST_INCOMING_CONTEXT'} variable: false distrusts every caller, a bad value warns once and trusts`, async (t) => {
  const name = 'O11Y_TRACING_TRUST_INCOMING_CONTEXT'
  const saved = process.env[name]
  t.teardown(() => { if (saved === undefined) delete process.env[name]; else process.env[name] = saved })
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const warnings: string[] = []
  const onWarning = (w: Error & { code?: string }): void => { if (w.code !== undefined) warnings.push(`${w.code} ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  for (const [value, continues] of [['false', false], [' FALSE ', false], ['true', true], ['maybe', true]] as const) {
    process.env[name] = value
    await withTracing(t, {}, {})
    const app = Fastify()
    app.get('/v', async () => 'ok')
    await app.inject({ url: '/v', headers: { traceparent } })
    await app.close()
    const [span] = await finished()
    t.equal(span?.spanContext().traceId === '4bf92f3577b34da6a3ce929d0e0e4736', continues, `${JSON.stringify(value)}: ${continues ? 'continues' : 'does not continue'} the caller's trace`)
    if (!continues) t.equal(span?.links[0]?.context.spanId, '00f067aa0ba902b7', `${JSON.stringify(value)}: the caller is a link`)
    await getActiveTracing()?.shutdown()
  }
  await new Promise((resolve) => setImmediate(resolve))
  const bad = warnings.filter((w) => w.startsWith('O11Y_ERR_TRACING_INVALID_ENV') && w.includes(name))
  t.equal(bad.length, 1, `one warning for the bad value: ${bad.join('; ')}`)
  t.match(bad[0] ?? '', /"maybe" is not valid/)
})

// Every tracing configuration the README offers, with a real outgoing http call and fetch.
const configurations: Array<[string, O11yTracingOptions]> = [
  ['lifecycle spans off (default)', {}],
  ['lifecycle spans on', { lifecycleSpans: true }],
  ['hook spans on', { hookSpans: true }]
]
for (const [label, plugin] of configurations) {
  t.test(`query secrets reach no span: ${label}`, async (t) => {
    const upstream = createServer((_req, res) => res.end('up'))
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.teardown(() => upstream.close())
    const port = (upstream.address() as AddressInfo).port
    await withTracing(t, {}, plugin)
    const http = require('node:http') as typeof import('node:http')
    const app = Fastify()
    app.addHook('preHandler', async function check () {})
    app.get('/search', async function search () {
      await new Promise<void>((resolve, reject) => {
        http.get(`http://127.0.0.1:${port}/up?token=S1&access_token=S2`, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
      })
      await (await fetch(`http://127.0.0.1:${port}/f?token=S1&access_token=S2`)).text()
      return 'ok'
    })
    t.teardown(() => app.close())
    const res = await app.inject('/search?token=S1&access_token=S2')
    t.equal(res.statusCode, 200)
    const spans = (await finished())
    t.ok(spans.length >= 2, `spans: ${spans.map((s) => s.name).join(', ')}`)
    const text = allText(spans)
    t.notOk(text.includes('S1'), 'S1 on no span')
    t.notOk(text.includes('S2'), 'S2 on no span')
    t.ok(spans.some((s) => s.kind === SpanKind.CLIENT && /\/(up|f)$/.test(String(s.attributes['url.full'] ?? s.attributes['http.url']))), 'the outgoing span keeps its URL without the query')
  })
}

t.test('captureQuery: true keeps the query (opt-in)', async (t) => {
  await withTracing(t, { captureQuery: true }, { lifecycleSpans: true })
  const app = Fastify()
  app.get('/search', async () => 'ok')
  t.teardown(() => app.close())
  await app.inject('/search?q=shoes')
  t.ok(allText((await finished())).includes('q=shoes'))
})

t.test('requestHook and responseHook set attributes on the SERVER span; a throwing hook is caught and counted', async (t) => {
  await withTracing(t, {}, {
    requestHook (span, request) { span.setAttribute('app.tenant', String(request.headers['x-tenant'])) },
    responseHook (span, _request, reply) { span.setAttribute('app.cached', reply.getHeader('x-cache') === 'hit') }
  })
  const app = Fastify()
  app.get('/t', async (_req, reply) => reply.header('x-cache', 'hit').send('ok'))
  t.teardown(() => app.close())
  await app.inject({ url: '/t', headers: { 'x-tenant': 'acme' } })
  const [span] = (await finished())
  t.equal(span?.kind, SpanKind.SERVER, 'the SERVER span')
  t.equal(span?.attributes['app.tenant'], 'acme')
  t.equal(span?.attributes['app.cached'], true)
})

t.test('throwing hooks: every request answered, failures counted, one warning', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error & { code?: string }): void => { if (w.code !== undefined) warnings.push(w.code) }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  exporter = new InMemorySpanExporter()
  const handle = startTracing({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    fastify: { requestHook () { throw new Error('hook bug') }, responseHook () { throw new Error('hook bug 2') } }
  })
  t.teardown(() => handle.shutdown())
  const before = handle.stats().hookErrors
  const app = Fastify()
  app.get('/t', async () => trace.getActiveSpan() !== undefined)
  t.teardown(() => app.close())
  for (let i = 0; i < 10; i++) {
    const res = await app.inject('/t')
    t.equal(res.body, 'true', 'served inside the span')
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(handle.stats().hookErrors - before, 20, 'each failure counted')
  t.equal((await finished()).length, 10, 'spans still end')
  t.equal(warnings.filter((c) => c === 'O11Y_ERR_TRACING_HOOK_FAILED').length, 2, 'one warning per hook')
})

t.test('unknown option names are rejected with a coded error', async (t) => {
  t.throws(() => startTracing({ samplerRaito: 0.1 } as never), { code: 'O11Y_ERR_TRACING_UNKNOWN_OPTION', message: /samplerRaito/ })
  t.throws(() => startTracing({ fastify: { lifecycleSpan: true } } as never), { code: 'O11Y_ERR_TRACING_UNKNOWN_OPTION', message: /fastify\.lifecycleSpan/ })
  t.throws(() => startTracing({ fastify: { requestHook: 'x' } } as never), { code: 'O11Y_ERR_TRACING_INVALID_OPTION' })
  t.throws(() => startTracing({ fastify: { trustIncomingContext: 'no' } } as never), { code: 'O11Y_ERR_TRACING_INVALID_OPTION' })
})

t.test('startTracing({ instrumentations }): extra Instrumentation instances, as an array or as `extra`, get our provider and are disabled on shutdown', async (t) => {
  const { InstrumentationBase } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation')
  class ProbeInstrumentation extends InstrumentationBase {
    disabled = 0
    providers = 0
    constructor (name: string) { super(name, '1.0.0', {}) }
    override setTracerProvider (provider: Parameters<InstanceType<typeof InstrumentationBase>['setTracerProvider']>[0]): void { this.providers++; super.setTracerProvider(provider) }
    protected init (): [] { return [] }
    override disable (): void { this.disabled++; super.disable() }
    work (): void { this.tracer.startSpan(`${this.instrumentationName}.work`).end() }
  }
  for (const form of ['array', 'extra'] as const) {
    const probe = new ProbeInstrumentation(`probe-${form}`)
    exporter = new InMemorySpanExporter()
    const handle = startTracing({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      fastify: false,
      instrumentations: form === 'array' ? [probe] : { pg: false, extra: [probe] }
    })
    t.equal(probe.providers, 1, `${form}: registered: it was handed the tracer provider`)
    probe.work()
    const spans = await finished()
    const span = spans.find((s) => s.name === `probe-${form}.work`)
    t.ok(span, `${form}: the instrumentation's span was recorded and exported (${spans.map((s) => s.name).join(', ')})`)
    t.equal(span?.instrumentationScope.name, `probe-${form}`, `${form}: under the instrumentation's own scope`)
    await handle.shutdown()
    t.equal(probe.disabled, 1, `${form}: disabled once on shutdown`)
  }
})
