import net from 'node:net'
import t, { type Test } from 'tap'
import { buildApp, SAFE_DB_MESSAGE } from '../src/app.js'
import { createDatabase } from '../src/db/database.js'
import { closedPort, databaseTargets, sampleOrder, tcpProxy, testDatabase } from './helpers.js'

const CONNECT_TIMEOUT_MS = 800
const STATEMENT_TIMEOUT_MS = 800
// Upper bound for "answers within the configured timeout": connect + statement + scheduling slack.
const BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 2000

const targets = await databaseTargets(t)

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - started }
}

type App = Awaited<ReturnType<typeof buildApp>>

async function expectDown (t: Test, app: App, orderId: string): Promise<void> {
  const ready = await timed(() => app.inject({ url: '/api/ready' }))
  t.equal(ready.value.statusCode, 503, 'ready: 503')
  t.same(ready.value.json(), { status: 'unavailable', checks: { database: 'down' } })
  t.ok(ready.ms < BOUND_MS, `ready answered in ${Math.round(ready.ms)} ms, within the bound`)
  const requests = [
    { url: `/api/orders/${orderId}` },
    { url: '/api/orders' },
    { method: 'POST' as const, url: '/api/orders', payload: sampleOrder() },
    { method: 'POST' as const, url: `/api/orders/${orderId}/checkout` },
    { method: 'POST' as const, url: `/api/orders/${orderId}/cancel` }
  ]
  for (const request of requests) {
    const res = await timed(() => app.inject(request))
    const label = `${request.method ?? 'GET'} ${request.url}`
    t.equal(res.value.statusCode, 503, `${label}: 503`)
    t.same(res.value.json(), { statusCode: 503, error: 'Service Unavailable', code: 'DATABASE_UNAVAILABLE', message: SAFE_DB_MESSAGE }, `${label}: safe body`)
    t.notMatch(res.value.body, /127\.0\.0\.1|ECONN|SELECT|INSERT|UPDATE|at .*\.js|postgres/i, `${label}: no host, SQL or stack`)
    t.equal(res.value.headers['retry-after'], '1')
    t.ok(res.ms < BOUND_MS, `${label}: answered in ${Math.round(res.ms)} ms`)
  }
}

async function expectUp (t: Test, app: App, orderId: string): Promise<void> {
  t.equal((await app.inject({ url: '/api/ready' })).statusCode, 200, 'ready again')
  t.equal((await app.inject({ url: `/api/orders/${orderId}` })).statusCode, 200, 'reads work again')
  t.equal((await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).statusCode, 201, 'writes work again')
}

for (const target of targets) {
  t.test(`${target.name}: database stopped -> 503 within the timeout, then recovery without restart`, async (t) => {
    if (target.embedded) {
      const embedded = target.embedded
      const db = await testDatabase(t, target, { connectTimeoutMs: CONNECT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS })
      const app = await buildApp({ db, logger: { level: 'silent' } })
      t.teardown(() => app.close())
      const order = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
      await embedded.pause()
      t.teardown(() => embedded.resume())
      await expectDown(t, app, order.id)
      await embedded.resume()
      await expectUp(t, app, order.id)
    } else {
      const proxy = await tcpProxy(target.url)
      t.teardown(() => proxy.close())
      const db = await testDatabase(t, target, { url: proxy.url, connectTimeoutMs: CONNECT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS })
      const app = await buildApp({ db, logger: { level: 'silent' } })
      t.teardown(() => app.close())
      const order = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
      await proxy.stop()
      await expectDown(t, app, order.id)
      await proxy.start()
      await expectUp(t, app, order.id)
    }
  })
}

t.test('a closed port: ready and order routes answer 503', async (t) => {
  const port = await closedPort()
  const db = createDatabase({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'public', max: 2, connectTimeoutMs: CONNECT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS })
  t.teardown(() => db.close())
  const app = await buildApp({ db, logger: { level: 'silent' } })
  t.teardown(() => app.close())
  await expectDown(t, app, '00000000-0000-4000-8000-000000000000')
})

t.test('a database that accepts but never answers: 503 after the connect timeout', async (t) => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => { sockets.add(s) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy()
    server.close(() => resolve())
  }))
  const { port } = server.address() as net.AddressInfo
  const db = createDatabase({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'public', max: 2, connectTimeoutMs: CONNECT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS })
  t.teardown(() => db.close())
  const app = await buildApp({ db, logger: { level: 'silent' } })
  t.teardown(() => app.close())
  const res = await timed(() => app.inject({ url: '/api/ready' }))
  t.equal(res.value.statusCode, 503)
  t.ok(res.ms >= CONNECT_TIMEOUT_MS - 50, 'it waited for the connect timeout')
  t.ok(res.ms < BOUND_MS, `and no longer (${Math.round(res.ms)} ms)`)
  const get = await app.inject({ url: '/api/orders/00000000-0000-4000-8000-000000000000' })
  t.equal(get.statusCode, 503)
})
