import t from 'tap'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace'
import { startTracing, withSpan } from '../src/index'
import { byName } from './helpers'
import { testDatabase, type TestDatabase } from './db'

// Opt-in: parameter values on pg spans. (The default, placeholders only, is tested in plugin.test.ts.)
const exporter = new InMemorySpanExporter()
const handle = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })], pgParameterValues: true, fastify: false })
const pg = require('pg') as typeof import('pg')

let db: TestDatabase
t.before(async () => {
  db = await testDatabase(t)
  t.teardown(async () => {
    await db.stop()
    await handle.shutdown()
  })
})

t.test('pgParameterValues: true puts the values on the span', async (t) => {
  const client = new pg.Client({ connectionString: db.url })
  await withSpan('with_values', async () => {
    await client.connect()
    await client.query('SELECT $1::text AS v', ['visible-value'])
    await client.end()
  })
  // SimpleSpanProcessor exports once the detected resource attributes are settled: wait for it.
  await handle.forceFlush()
  const query = byName(exporter.getFinishedSpans(), `pg.query:SELECT ${db.database}`)
  t.equal(query.attributes['db.query.text'], 'SELECT $1::text AS v')
  t.same(query.attributes['db.postgresql.values'], ['visible-value'])
})

t.test('requireParentSpan: no pg spans outside a span', async (t) => {
  await handle.forceFlush()
  exporter.reset()
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  await client.query('SELECT 1')
  await client.end()
  await handle.forceFlush()
  t.same(exporter.getFinishedSpans(), [])
})
