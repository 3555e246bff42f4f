import Fastify from 'fastify'
import t from 'tap'
import { o11yMetrics } from '../src/index'
import { buildApp, find, OPENMETRICS_ACCEPT, parseSamples } from './fixtures/helpers'

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

t.test('bearer auth: 401 with WWW-Authenticate on a missing or wrong token, 200 with the right one', async (t) => {
  const app = await buildApp(t, { endpoint: { auth: { type: 'bearer', token: 's3cret-token' } } })
  const missing = await app.inject('/metrics')
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="metrics"')
  t.notMatch(missing.body, /http_requests/)
  for (const authorization of ['Bearer wrong', 'Bearer s3cret-token-longer', 'Bearer s3cret-toke', 'Basic czNjcmV0LXRva2Vu', 's3cret-token', 'Bearer ']) {
    const res = await app.inject({ url: '/metrics', headers: { authorization } })
    t.equal(res.statusCode, 401, `rejects "${authorization}"`)
  }
  const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret-token' } })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /http_requests_in_flight/)
  const lower = await app.inject({ url: '/metrics', headers: { authorization: 'bearer s3cret-token', accept: OPENMETRICS_ACCEPT } })
  t.equal(lower.statusCode, 200, 'the scheme is case-insensitive')
  t.match(lower.headers['content-type'], /openmetrics/)
})

t.test('basic auth: 401 on a missing or wrong credential, 200 with the right one', async (t) => {
  const app = await buildApp(t, { endpoint: { auth: { type: 'basic', username: 'prometheus', password: 'pa:ss' } } })
  const missing = await app.inject('/metrics')
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Basic realm="metrics", charset="UTF-8"')
  for (const authorization of [basic('prometheus', 'wrong'), basic('other', 'pa:ss'), basic('prometheus', 'pa:s'), 'Bearer pa:ss', 'Basic !!!']) {
    t.equal((await app.inject({ url: '/metrics', headers: { authorization } })).statusCode, 401, `rejects "${authorization}"`)
  }
  const ok = await app.inject({ url: '/metrics', headers: { authorization: basic('prometheus', 'pa:ss') } })
  t.equal(ok.statusCode, 200)
})

t.test('the path is configurable', async (t) => {
  const app = await buildApp(t, { endpoint: { path: '/internal/prom' } })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  t.equal((await app.inject('/metrics')).statusCode, 404)
  const res = await app.inject('/internal/prom')
  t.equal(res.statusCode, 200)
  t.equal(find(parseSamples(res.body), 'http_requests_total', { route: '/x' })[0]?.value, 1)
  t.equal(find(parseSamples(res.body), 'http_requests_total', { route: '/internal/prom' }).length, 0, 'the metrics path is left out')
})

t.test('endpoint: false registers no route; the registry is still filled', async (t) => {
  const app = await buildApp(t, { endpoint: false })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  t.equal((await app.inject('/metrics')).statusCode, 404)
  t.match(await app.metrics.render(), /http_requests_total\{method="GET",route="\/x",status_code="200"\} 1/)
  t.match(await app.metrics.render('openmetrics'), /# EOF\n$/)
  t.equal(app.metrics.address(), null)
})

t.test('separate port: metrics on their own server (real sockets), 404 on the public port', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { endpoint: { port: 0, host: '127.0.0.1', auth: { type: 'bearer', token: 'tok' } } })
  app.get('/api/orders/:id', async () => ({ ok: true }))
  t.equal(app.metrics.address(), null, 'not listening before ready')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const publicPort = (app.server.address() as { port: number }).port
  const internal = app.metrics.address()
  t.ok(internal !== null && internal.port > 0 && internal.port !== publicPort)
  const base = `http://127.0.0.1:${internal?.port ?? 0}`

  t.equal((await fetch(`http://127.0.0.1:${publicPort}/api/orders/1`)).status, 200)
  const pub = await fetch(`http://127.0.0.1:${publicPort}/metrics`, { headers: { authorization: 'Bearer tok' } })
  t.equal(pub.status, 404, 'the public port does not serve metrics')
  await pub.arrayBuffer()

  const noAuth = await fetch(`${base}/metrics`)
  t.equal(noAuth.status, 401)
  t.equal(noAuth.headers.get('www-authenticate'), 'Bearer realm="metrics"')
  await noAuth.arrayBuffer()
  const res = await fetch(`${base}/metrics?x=1`, { headers: { authorization: 'Bearer tok' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const samples = parseSamples(await res.text())
  t.equal(find(samples, 'http_requests_total', { route: '/api/orders/:id' })[0]?.value, 1)
  t.equal(find(samples, 'http_requests_total', { route: '__unmatched__' })[0]?.value, 1, 'the 404 on the public port is counted as unmatched')

  const om = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok', accept: OPENMETRICS_ACCEPT } })
  t.match(om.headers.get('content-type'), /application\/openmetrics-text/)
  t.match(await om.text(), /# EOF\n$/)
  const head = await fetch(`${base}/metrics`, { method: 'HEAD', headers: { authorization: 'Bearer tok' } })
  t.equal(head.status, 200)
  const other = await fetch(`${base}/other`)
  t.equal(other.status, 404)
  await other.arrayBuffer()
  const post = await fetch(`${base}/metrics`, { method: 'POST' })
  t.equal(post.status, 404)
  await post.arrayBuffer()

  await app.close()
  t.equal(app.metrics.address(), null)
  await t.rejects(fetch(`${base}/metrics`), 'the separate server is closed with the app')
})

t.test('separate port: a port in use fails app.ready with the listen error', async (t) => {
  const first = Fastify()
  t.teardown(() => first.close())
  await first.register(o11yMetrics, { endpoint: { port: 0, host: '127.0.0.1' } })
  await first.ready()
  const port = first.metrics.address()?.port
  const second = Fastify()
  t.teardown(() => second.close())
  await second.register(o11yMetrics, { endpoint: { port, host: '127.0.0.1' } })
  await t.rejects(async () => { await second.ready() }, { code: 'EADDRINUSE' })
})
