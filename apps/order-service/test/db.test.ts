import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createDatabase, DatabaseError, quoteIdent } from '../src/db/database.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { MIGRATIONS } from '../src/db/migrations.js'
import { ERROR_CODES } from '../src/errors.js'
import { closedPort, databaseTargets, testDatabase, uniqueSchema } from './helpers.js'

const targets = await databaseTargets(t)

for (const target of targets) {
  t.test(`${target.name}: migrations are applied once and recorded`, async (t) => {
    const db = await testDatabase(t, target)
    t.same(await db.migrate(), [], 'a second run applies nothing')
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM ${db.table('schema_migrations')} ORDER BY id`)
    t.same(rows.map((r) => r.id), MIGRATIONS.map((m) => m.id))
    const tables = await db.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [db.schema])
    t.same(tables.rows.map((r) => r.table_name), ['order_items', 'orders', 'payments', 'schema_migrations'])
  })

  t.test(`${target.name}: a new migration is applied on the next start`, async (t) => {
    const db = await testDatabase(t, target)
    const extra = [...MIGRATIONS, { id: '999_test', sql: 'CREATE TABLE {{schema}}.extra (id int)' }]
    t.same(await db.migrate(extra), ['999_test'])
    t.same(await db.migrate(extra), [])
  })

  t.test(`${target.name}: transactions roll back and keep domain errors`, async (t) => {
    const db = await testDatabase(t, target)
    const orders = db.table('orders')
    const boom = new Error('domain rule')
    await t.rejects(db.transaction(async (c) => {
      await c.query(`INSERT INTO ${orders} (id, customer_id, status, currency, total_cents) VALUES (gen_random_uuid(), 'x', 'pending', 'EUR', 1)`)
      throw boom
    }), boom, 'the error of the callback is rethrown as is')
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${orders}`)
    t.equal(rows[0]?.n, '0', 'the insert was rolled back')

    const err = await db.transaction(async (c) => c.query('SELECT * FROM no_such_table')).catch((e: unknown) => e)
    t.type(err, DatabaseError, 'SQL errors become DatabaseError')
    t.equal((err as DatabaseError).statusCode, 503)
    t.equal((err as DatabaseError).message, 'database unavailable')
    t.match(((err as DatabaseError).cause as Error).message, /no_such_table/, 'the cause keeps the detail for the log')
    await db.ping()
  })

  t.test(`${target.name}: query errors become DatabaseError`, async (t) => {
    const db = await testDatabase(t, target)
    const err = await db.query('SELEC 1').catch((e: unknown) => e)
    t.type(err, DatabaseError)
    t.match(((err as DatabaseError).cause as Error).message, /syntax error/)
  })
}

t.test('a closed port fails fast with DatabaseError, pool closing is idempotent', async (t) => {
  const port = await closedPort()
  const db = createDatabase({ connectionString: `postgres://postgres@127.0.0.1:${port}/x`, schema: 'public', max: 1, connectTimeoutMs: 500, statementTimeoutMs: 500 })
  const err = await db.ping().catch((e: unknown) => e)
  t.type(err, DatabaseError)
  t.match(((err as DatabaseError).cause as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  const txErr = await db.transaction(async () => 1).catch((e: unknown) => e)
  t.type(txErr, DatabaseError, 'a transaction that cannot connect fails the same way')
  await db.close()
  await db.close()
})

t.test('embedded: pause makes the database unreachable, resume brings it back', async (t) => {
  const embedded = targets.find((x) => x.name === 'embedded')?.embedded
  if (!embedded) throw new Error('embedded target missing')
  const db = createDatabase({ connectionString: embedded.url, schema: 'public', max: 1, connectTimeoutMs: 1000, statementTimeoutMs: 1000 })
  t.teardown(() => db.close())
  await db.ping()
  await embedded.pause()
  await embedded.pause()
  await t.rejects(db.ping(), DatabaseError)
  await embedded.resume()
  await embedded.resume()
  await db.ping()
  t.pass('the same pool works again')
})

t.test('embedded: data survives a restart in its data folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'order-service-pglite-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'nested', 'pglite')
  const first = await startEmbeddedPostgres({ dataDir })
  t.match(first.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/)
  const schema = uniqueSchema()
  const db1 = createDatabase({ connectionString: first.url, schema, max: 1, connectTimeoutMs: 2000, statementTimeoutMs: 5000 })
  t.same(await db1.migrate(), MIGRATIONS.map((m) => m.id))
  await db1.close()
  await first.stop()
  await first.stop()

  const second = await startEmbeddedPostgres({ dataDir })
  t.teardown(() => second.stop())
  const db2 = createDatabase({ connectionString: second.url, schema, max: 1, connectTimeoutMs: 2000, statementTimeoutMs: 5000 })
  t.teardown(() => db2.close())
  t.same(await db2.migrate(), [], 'the migrations were kept on disk')
  await second.resume()
  t.equal(second.dataDir, dataDir)
})

t.test('embedded: a data folder that cannot be created is a coded error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'order-service-pglite-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'a-file')
  await writeFile(file, 'not a folder')
  await t.rejects(startEmbeddedPostgres({ dataDir: join(file, 'pglite') }), { code: ERROR_CODES.embeddedDb, message: /@o11y\/order-service: cannot open the embedded database/ })
})

t.test('embedded: a port in use is a coded error', async (t) => {
  const embedded = targets.find((x) => x.name === 'embedded')?.embedded
  await t.rejects(startEmbeddedPostgres({ dataDir: 'memory://', port: embedded?.port }), { code: ERROR_CODES.embeddedDb, message: /cannot listen/ })
})

t.test('quoteIdent doubles quotes', async (t) => {
  t.equal(quoteIdent('a"b'), '"a""b"')
})
