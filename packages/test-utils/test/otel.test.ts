import t from 'tap'
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api'
import { createMemoryTracing } from '../src/index'

t.test('spans are collected in memory with the async context and W3C propagation in place', async (t) => {
  const memory = createMemoryTracing()
  t.teardown(() => memory.shutdown())
  const tracer = trace.getTracer('test')
  await tracer.startActiveSpan('outer', async (outer) => {
    await new Promise((resolve) => setTimeout(resolve, 2))
    tracer.startSpan('inner').end()
    const carrier: Record<string, string> = {}
    propagation.inject(context.active(), carrier)
    t.match(carrier.traceparent, new RegExp(`^00-${outer.spanContext().traceId}-${outer.spanContext().spanId}-01$`))
    outer.setStatus({ code: SpanStatusCode.ERROR })
    outer.end()
  })
  const [inner, outer] = memory.spans()
  t.equal(inner?.name, 'inner')
  t.equal(inner?.parentSpanContext?.spanId, outer?.spanContext().spanId, 'the active span survives an await')
  memory.reset()
  t.same(memory.spans(), [])
})

t.test('extract: valid traceparent and tracestate; malformed ones are ignored', async (t) => {
  const memory = createMemoryTracing()
  t.teardown(() => memory.shutdown())
  const trace_ = '0af7651916cd43dd8448eb211c80319c'
  const ok = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${trace_}-b7ad6b7169203331-01`, tracestate: 'a=1' })
  t.equal(trace.getSpanContext(ok)?.traceId, trace_)
  t.equal(trace.getSpanContext(ok)?.traceState?.get('a'), '1')
  t.equal(trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: [`00-${trace_}-b7ad6b7169203331-00`] }))?.traceFlags, 0)
  for (const bad of [
    `ff-${trace_}-b7ad6b7169203331-01`,
    `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
    `00-${trace_}-${'0'.repeat(16)}-01`,
    `00-${trace_}-b7ad6b716920333-01`,
    `00-${trace_}-b7ad6b7169203331-01-extra`,
    'garbage'
  ]) {
    t.equal(trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: bad })), undefined, bad)
  }
  t.equal(trace.getSpanContext(propagation.extract(ROOT_CONTEXT, {})), undefined)
  const carrier: Record<string, string> = {}
  propagation.inject(ROOT_CONTEXT, carrier)
  t.same(carrier, {}, 'nothing injected without a span')
  const withState: Record<string, string> = {}
  propagation.inject(ok, withState)
  t.same(withState, { traceparent: `00-${trace_}-b7ad6b7169203331-01`, tracestate: 'a=1' })
  t.same(propagation.fields(), ['traceparent', 'tracestate'])
})

t.test('a second registration without shutdown is refused; after shutdown it works', async (t) => {
  const first = createMemoryTracing()
  t.throws(() => createMemoryTracing(), /already registered/)
  await first.shutdown()
  await first.shutdown()
  const second = createMemoryTracing()
  trace.getTracer('x').startSpan('after').end()
  t.same(second.spans().map((s) => s.name), ['after'])
  t.same(first.spans(), [])
  await second.shutdown()
})
