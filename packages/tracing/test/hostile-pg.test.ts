import t, { type Test } from 'tap'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { startTracing } from '../src/index'
import { testDatabase } from './db'

// One tracing for the pg instrumentation (it patches pg when pg is loaded, so it comes first).
let exporter = new InMemorySpanExporter()
let handle = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
const pg = require('pg') as typeof import('pg')
const Fastify = require('fastify') as typeof import('fastify').default

const text = (spans: ReadableSpan[]): string => JSON.stringify(spans.map((s) => ({
  name: s.name, attributes: s.attributes, status: s.status, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes }))
})))

async function failingRequest (t: Test, url: string): Promise<ReadableSpan[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(() => pool.end())
  const app = Fastify()
  app.post('/orders', async function createOrder (request) {
    const { id } = request.body as { id: string }
    return (await pool.query('SELECT $1::int AS id', [id])).rows
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/orders', payload: { id: 'the-secret-value' } })
  t.equal(res.statusCode, 500)
  await handle.forceFlush()
  return exporter.getFinishedSpans()
}

t.test('a pg error quoting a value leaves the value on no span (pg span and SERVER span), code and class kept', async (t) => {
  const db = await testDatabase(t)
  t.teardown(() => db.stop())
  const spans = await failingRequest(t, db.url)
  const all = text(spans)
  t.ok(spans.some((s) => s.name.startsWith('pg.query')), `the pg span is there (${spans.map((s) => s.name).join(', ')})`)
  for (const span of spans) t.notOk(text([span]).includes('the-secret-value'), `the value is not on ${span.name}: ${text([span]).slice(0, 600)}`)
  t.ok(all.includes('22P02'), 'the SQLSTATE code is kept')
  t.ok(all.includes('data exception'), 'and its class')
})

t.test('dbErrorDetail: true keeps the text (opt-in)', async (t) => {
  await handle.shutdown()
  exporter = new InMemorySpanExporter()
  handle = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })], dbErrorDetail: true })
  t.teardown(() => handle.shutdown())
  const db = await testDatabase(t)
  t.teardown(() => db.stop())
  const spans = await failingRequest(t, db.url)
  t.ok(text(spans).includes('the-secret-value'), 'the SERVER span\'s exception keeps the driver\'s message')
})
