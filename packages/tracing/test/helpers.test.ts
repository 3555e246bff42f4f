import t from 'tap'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import { createMemoryTracing } from '@o11y/test-utils'
import Fastify from 'fastify'
import { addSpanAttributes, addSpanEvent, getTracer, o11yTracing, withSpan } from '../src/index'
import { byName, parentId } from './helpers'

t.test('with tracing on', async (t) => {
  const memory = createMemoryTracing()
  t.teardown(() => memory.shutdown())
  t.beforeEach(() => memory.reset())

  t.test('withSpan runs a sync function in an active span and ends it', async (t) => {
    const result = withSpan('sync_work', (span) => {
      t.equal(trace.getActiveSpan(), span, 'the span is active inside fn')
      addSpanAttributes({ 'work.items': 2 })
      addSpanEvent('halfway', { 'work.done': 1 })
      return 21 * 2
    }, { 'work.kind': 'sync' })
    t.equal(result, 42)
    const span = byName(memory.spans(), 'sync_work')
    t.same(span.attributes, { 'work.kind': 'sync', 'work.items': 2 })
    t.same(span.events.map((e) => [e.name, e.attributes]), [['halfway', { 'work.done': 1 }]])
    t.equal(span.status.code, SpanStatusCode.UNSET)
    t.equal(trace.getActiveSpan(), undefined, 'nothing active afterwards')
  })

  t.test('withSpan awaits an async function; nested spans are children', async (t) => {
    const result = await withSpan('checkout_flow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return withSpan('charge_card', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        addSpanAttributes({ 'payment.currency': 'EUR' })
        return 'charged'
      })
    }, { 'order.id': 'o-1' })
    t.equal(result, 'charged')
    const outer = byName(memory.spans(), 'checkout_flow')
    const inner = byName(memory.spans(), 'charge_card')
    t.equal(parentId(inner), outer.spanContext().spanId)
    t.equal(inner.attributes['payment.currency'], 'EUR')
    t.equal(outer.attributes['order.id'], 'o-1')
    t.ok(outer.ended && inner.ended)
  })

  t.test('a throwing function: exception recorded, ERROR status, span ended, error rethrown', async (t) => {
    t.throws(() => withSpan('sync_fail', () => { throw new TypeError('bad input') }), { message: 'bad input' })
    const span = byName(memory.spans(), 'sync_fail')
    t.equal(span.status.code, SpanStatusCode.ERROR)
    t.equal(span.status.message, 'bad input')
    const event = span.events.find((e) => e.name === 'exception')
    t.equal(event?.attributes?.['exception.type'], 'TypeError')
    t.ok(span.ended)
  })

  t.test('a rejecting async function: same, and the promise rejects', async (t) => {
    await t.rejects(withSpan('async_fail', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      throw new Error('payment declined')
    }), { message: 'payment declined' })
    const span = byName(memory.spans(), 'async_fail')
    t.equal(span.status.code, SpanStatusCode.ERROR)
    t.equal(span.events[0]?.attributes?.['exception.message'], 'payment declined')
  })

  t.test('throwing something that is not an Error', async (t) => {
    t.throws(() => withSpan('odd_fail', () => { throw 'just a string' }))
    await t.rejects(withSpan('odd_async_fail', async () => { throw 42 }))
    t.equal(byName(memory.spans(), 'odd_fail').status.message, 'just a string')
    t.equal(byName(memory.spans(), 'odd_async_fail').status.message, '42')
  })

  t.test('getTracer: our tracer by default, any name on request', async (t) => {
    getTracer().startSpan('default_tracer').end()
    getTracer('payments', '1.2.3').startSpan('named_tracer').end()
    t.equal(byName(memory.spans(), 'default_tracer').instrumentationScope.name, '@o11y/tracing')
    t.same(byName(memory.spans(), 'named_tracer').instrumentationScope, { name: 'payments', version: '1.2.3', schemaUrl: undefined })
  })

  t.test('with createMemoryTracing (as other packages test), the plugin traces and onClose flushes', async (t) => {
    const app = Fastify()
    await app.register(o11yTracing)
    let inOnResponse: string | undefined
    app.addHook('onResponse', async function probe () { inOnResponse = trace.getActiveSpan()?.spanContext().traceId })
    app.get('/memory', async function memoryRoute () {
      return withSpan('inner_work', async () => 'done')
    })
    t.equal((await app.inject('/memory')).body, 'done')
    await app.close()
    const server = byName(memory.spans(), 'GET /memory')
    t.equal(inOnResponse, server.spanContext().traceId)
    t.equal(byName(memory.spans(), 'inner_work').spanContext().traceId, server.spanContext().traceId)
  })

  t.test('attributes and events without an active span are no-ops', async (t) => {
    addSpanAttributes({ lost: true })
    addSpanEvent('lost')
    t.same(memory.spans(), [])
  })
})

t.test('with tracing off, the helpers run the code and record nothing', async (t) => {
  let recording: boolean | undefined
  const value = withSpan('nothing', (span) => {
    recording = span.isRecording()
    addSpanAttributes({ a: 1 })
    addSpanEvent('e')
    return 'still works'
  })
  t.equal(value, 'still works')
  t.equal(recording, false)
  t.equal(await withSpan('nothing_async', async () => 'async too'), 'async too')
  t.equal(getTracer().startSpan('x').isRecording(), false)
})
