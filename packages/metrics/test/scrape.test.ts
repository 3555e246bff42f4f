import { connect } from 'node:net'
import { gunzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import t from 'tap'
import { acceptsGzip, GZIP_INLINE_MAX_BYTES, gzipBody } from '../src/endpoint'
import { o11yMetrics, render } from '../src/index'
import { buildApp, find, logCapture, OPENMETRICS_ACCEPT, parseSamples, scrape } from './fixtures/helpers'

// Issue 14: scrapes share work. Renders are counted in o11y_metrics_scrapes_total{result}.

function results (text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of find(parseSamples(text), 'o11y_metrics_scrapes_total')) out[s.labels.result as string] = s.value
  return out
}

/** A gauge whose collect waits for `release()`: holds a render open for as long as a test needs. */
function gatedGauge (app: Awaited<ReturnType<typeof buildApp>>, fail = false): { release: () => void, entered: Promise<void> } {
  let release: () => void = () => {}
  let enter: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const entered = new Promise<void>((resolve) => { enter = resolve })
  app.metrics.gauge({
    name: 'slow_collect',
    help: 'Collect waits for the test.',
    async collect () {
      enter()
      await gate
      if (fail) throw new Error('backend gone')
      this.set(1)
    }
  })
  return { release: () => release(), entered }
}

t.test('concurrent scrapes share one render (single flight)', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const { release, entered } = gatedGauge(app)
  const pending = Array.from({ length: 20 }, () => app.inject('/metrics'))
  await entered
  await new Promise((r) => setTimeout(r, 20))
  release()
  const answers = await Promise.all(pending)
  t.ok(answers.every((r) => r.statusCode === 200))
  t.ok(answers.every((r) => r.body === answers[0]?.body), 'every scraper got the same render')
  const counts = results(await app.metrics.render())
  t.equal(counts.rendered, 1, 'one render for the 20 concurrent scrapes')
  t.equal(counts.shared, 19)
  t.equal(counts.cached, 0, 'minIntervalMs is 0 by default')
})

t.test('each format renders separately: text and OpenMetrics never share a body', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const { release, entered } = gatedGauge(app)
  const pending = [app.inject('/metrics'), app.inject({ url: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } }), app.inject('/metrics'), app.inject({ url: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } })]
  await entered
  release()
  const [text1, om1, text2, om2] = await Promise.all(pending)
  t.notMatch(text1?.body, /# EOF/)
  t.match(text1?.headers['content-type'], /^text\/plain/)
  t.match(om1?.body, /# EOF\n$/)
  t.match(om1?.headers['content-type'], /^application\/openmetrics-text/)
  t.equal(text2?.body, text1?.body)
  t.equal(om2?.body, om1?.body)
  const counts = results(await app.metrics.render())
  t.equal(counts.rendered, 2, 'one render per format')
  t.equal(counts.shared, 2)
})

t.test('without minIntervalMs, scrapes that do not overlap see fresh numbers', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  t.equal(find((await scrape(app)).samples, 'http_requests_total', { route: '/x' })[0]?.value, 1)
  await app.inject('/x')
  t.equal(find((await scrape(app)).samples, 'http_requests_total', { route: '/x' })[0]?.value, 2)
})

t.test('endpoint.minIntervalMs serves the last render to scrapes within it, then renders again', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { minIntervalMs: 300 } })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  const first = await scrape(app)
  await app.inject('/x')
  const second = await scrape(app)
  t.equal(second.text, first.text, 'the same render within the interval')
  t.equal(find(second.samples, 'http_requests_total', { route: '/x' })[0]?.value, 1, 'cached numbers')
  const om = await scrape(app, true)
  t.match(om.text, /# EOF\n$/, 'the other format has its own cache (rendered now)')
  await new Promise((r) => setTimeout(r, 350))
  const third = await scrape(app)
  t.equal(find(third.samples, 'http_requests_total', { route: '/x' })[0]?.value, 2, 'fresh after the interval')
  const counts = results(await app.metrics.render())
  t.equal(counts.rendered, 3, 'the first text scrape, the OpenMetrics one and the one after the interval')
  t.equal(counts.cached, 1)
})

t.test('a failing render answers 500 to every scraper that shared it, is logged once, and is not cached', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { minIntervalMs: 10_000 } }, { logger: { level: 'warn', stream: logs.stream } })
  const { release, entered } = gatedGauge(app, true)
  const pending = Array.from({ length: 5 }, () => app.inject('/metrics'))
  await entered
  release()
  const answers = await Promise.all(pending)
  t.same(answers.map((r) => r.statusCode), [500, 500, 500, 500, 500])
  t.ok(answers.every((r) => !r.body.includes('backend gone')), 'the cause never reaches the scraper')
  t.equal(logs.lines.filter((l) => /collecting metrics failed/.test(l.msg)).length, 1, 'logged once per render, not per scraper')
  const next = await app.inject('/metrics')
  t.equal(next.statusCode, 500, 'the failure was not cached as a render: the collector ran again (and failed again)')
  t.equal(logs.lines.filter((l) => /collecting metrics failed/.test(l.msg)).length, 2)
})

t.test('a hanging collector: scrapes time out and join the render in progress instead of piling up new ones', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { timeoutMs: 50 } }, { logger: { level: 'warn', stream: logs.stream } })
  let collects = 0
  app.metrics.gauge({ name: 'hangs', help: 'Never answers.', collect: () => { collects++; return new Promise<void>(() => {}) as unknown as void } })
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/metrics')).statusCode, 500)
  t.equal(collects, 1, 'one render in progress for five scrapes')
  t.equal(logs.lines.filter((l) => /took longer than 50 ms/.test(l.err?.message ?? '')).length, 5, 'each timeout is logged')
})

t.test('a large registry: the render yields to the event loop instead of blocking it', async (t) => {
  const registry = new Registry()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { registry, runtimeMetrics: false, endpoint: false, maxLabelSets: 10_000 })
  const c = app.metrics.counter({ name: 'big_total', help: 'Many series.', labelNames: ['k'] })
  for (let i = 0; i < 20_000; i++) c.inc({ k: String(i) })
  let turns = 0
  let rendering = true
  const spin = (): void => { if (rendering) { turns++; setImmediate(spin) } }
  setImmediate(spin)
  const text = await render(registry, 'prometheus', () => {})
  rendering = false
  t.equal(find(parseSamples(text), 'big_total').length, 10_001)
  t.ok(turns >= 5, `the event loop turned ${turns} times during one render of 10,001 series`)
})

t.test('an unauthorized flood costs no render', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { auth: { type: 'bearer', token: 'tok' } } })
  const answers = await Promise.all(Array.from({ length: 200 }, () => app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } })))
  t.ok(answers.every((r) => r.statusCode === 401))
  const counts = results(await app.metrics.render())
  t.equal(counts.unauthorized, 200)
  t.equal(counts.rendered, 0, 'no render')
})

t.test('the separate server shares renders too (real sockets)', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { runtimeMetrics: false, endpoint: { port: 0, host: '127.0.0.1', minIntervalMs: 5000 } })
  await app.ready()
  const base = `http://127.0.0.1:${app.metrics.address()?.port ?? 0}/metrics`
  const bodies = await Promise.all(Array.from({ length: 30 }, async () => (await fetch(base)).text()))
  t.ok(bodies.every((b) => b === bodies[0]))
  const counts = results(await app.metrics.render())
  t.equal(counts.rendered, 1, 'one render for 30 scrapes')
  t.equal((counts.shared ?? 0) + (counts.cached ?? 0), 29, 'the rest shared it or got it from the cache')
})

t.test('gzip when the scraper asks for it (compressed once per render); crafted Accept-Encoding headers', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { minIntervalMs: 5000 } })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  const plain = await app.inject('/metrics')
  t.equal(plain.headers['content-encoding'], undefined)
  const zipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(zipped.headers['content-encoding'], 'gzip')
  t.equal(zipped.headers.vary, 'accept-encoding')
  t.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body, 'the same render, compressed')
  t.ok(zipped.rawPayload.length < plain.body.length / 3, `smaller (${zipped.rawPayload.length} of ${plain.body.length} bytes)`)
  const again = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } })
  t.same(again.rawPayload, zipped.rawPayload)

  t.equal(acceptsGzip(undefined), false)
  t.equal(acceptsGzip('identity'), false)
  t.equal(acceptsGzip('gzip;q=0'), false, 'q=0 refuses it')
  t.equal(acceptsGzip('gzip;q=0.000'), false)
  t.equal(acceptsGzip('br, GZIP;q=0.5'), true)
  t.equal(acceptsGzip('*'), true)
  t.equal(acceptsGzip(['deflate', 'x-gzip']), true)
  t.equal(acceptsGzip('gzip;q=abc'), false, 'an unreadable quality is not a yes')
  t.equal(acceptsGzip(`${'a,'.repeat(20_000)}gzip`), true, 'a huge header is parsed without trouble')
  const crafted = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip;q=0, identity' } })
  t.equal(crafted.headers['content-encoding'], undefined)
  t.equal(crafted.body, plain.body)
})

t.test('gzip: small renders are compressed inline, large ones in the thread pool; both decompress to the render', async (t) => {
  // Inline: the compressed body is ready before the event loop turns once more.
  const small = Buffer.from('x_total 1\n'.repeat(1000))
  let turned = false
  setImmediate(() => { turned = true })
  const smallZip = await gzipBody(small)
  t.equal(turned, false, 'a small body did not wait for the event loop')
  t.same(gunzipSync(smallZip), small)
  // Thread pool: a 2 MB body lets the event loop run while it is compressed.
  const big = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `big_total{k="v${i}"} ${i}\n`).join(''))
  t.ok(big.length > GZIP_INLINE_MAX_BYTES * 4)
  turned = false
  setImmediate(() => { turned = true })
  const bigZip = await gzipBody(big)
  t.equal(turned, true, 'the event loop ran while a large body was compressed')
  t.same(gunzipSync(bigZip), big)

  // End to end: a render above the bound, scraped with and without gzip.
  const app = await buildApp(t, { runtimeMetrics: false })
  const c = app.metrics.counter({ name: 'wide_total', help: 'Many series.', labelNames: ['k'], maxLabelSets: 5000 })
  for (let i = 0; i < 5000; i++) c.inc({ k: `value-${i}-${'x'.repeat(40)}` })
  const plain = await app.inject('/metrics')
  t.ok(plain.rawPayload.length > GZIP_INLINE_MAX_BYTES, `the render is ${plain.rawPayload.length} bytes`)
  const zipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } })
  t.equal(zipped.headers['content-encoding'], 'gzip')
  const text = gunzipSync(zipped.rawPayload).toString('utf8')
  t.equal(find(parseSamples(text), 'wide_total').length, 5000, 'every series in the compressed render')
  t.equal(text.length, plain.body.length)
})

t.test('a scraper that hangs up mid-response on the separate server harms nothing', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { runtimeMetrics: false, endpoint: { port: 0, host: '127.0.0.1' } })
  const c = app.metrics.counter({ name: 'wide_total', help: 'Many series.', labelNames: ['k'], maxLabelSets: 5000 })
  for (let i = 0; i < 5000; i++) c.inc({ k: `value-${i}-${'x'.repeat(40)}` })
  await app.ready()
  const port = app.metrics.address()?.port ?? 0
  for (let i = 0; i < 20; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
    socket.once('data', () => socket.destroy())
    socket.on('error', () => {})
  }
  await new Promise((r) => setTimeout(r, 200))
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.status, 200)
  t.equal(find(parseSamples(await res.text()), 'wide_total').length, 5000)
})

t.test('a render first asked for with gzip is kept compressed; a later plain scrape of it gets the same bytes inflated', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { minIntervalMs: 60_000 } })
  // Label values of one- to four-byte UTF-8 characters, on a route and on a business metric.
  app.get('/grüße/€/:id', async () => 'ok')
  await app.inject('/grüße/€/1')
  const c = app.metrics.counter({ name: 'orders_total', help: 'Orders by kind: ünïcödé help €.', labelNames: ['kind'] })
  c.inc({ kind: 'café 🚀' })
  c.inc({ kind: 'line\nbreak "quoted" back\\slash' })
  for (const accept of [undefined, OPENMETRICS_ACCEPT]) {
    const headers: Record<string, string> = accept === undefined ? {} : { accept }
    const zipped = await app.inject({ url: '/metrics', headers: { ...headers, 'accept-encoding': 'gzip' } })
    t.equal(zipped.headers['content-encoding'], 'gzip')
    const text = gunzipSync(zipped.rawPayload).toString('utf8')
    const plain = await app.inject({ url: '/metrics', headers })
    t.equal(plain.headers['content-encoding'], undefined)
    t.equal(plain.body, text, `${accept === undefined ? 'text' : 'OpenMetrics'}: the cached render, inflated for the plain scraper`)
    t.equal(plain.headers['content-length'], String(Buffer.byteLength(text)), 'content-length counts bytes, not characters')
    t.match(text, 'route="/grüße/€/:id"', 'a UTF-8 route label')
    t.match(text, 'kind="café 🚀"', 'a four-byte character in a label value')
    t.match(text, 'kind="line\\nbreak \\"quoted\\" back\\\\slash"', 'escapes')
    t.match(text, accept === undefined ? '# HELP orders_total Orders by kind: ünïcödé help €.' : '# HELP orders Orders by kind: ünïcödé help €.')
    // A fresh render differs only in the scrape counter (this render counted fewer scrapes).
    const fresh = await app.metrics.render(accept === undefined ? 'prometheus' : 'openmetrics')
    const withoutScrapes = (s: string): string => s.split('\n').filter((l) => !l.startsWith('o11y_metrics_scrapes_total')).join('\n')
    t.equal(withoutScrapes(text), withoutScrapes(fresh), 'the same text as a fresh render, byte for byte')
  }
})

t.test('a render first asked for plain is kept plain; a later gzip scrape compresses that copy', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, endpoint: { minIntervalMs: 60_000 } })
  app.get('/ü/:id', async () => 'ok')
  await app.inject('/ü/1')
  const plain = await app.inject('/metrics')
  const zipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } })
  t.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body)
  t.match(plain.body, 'route="/ü/:id"')
})

t.test('renders of every size in a row: each is its own bytes (the reused buffer never leaks a longer earlier render)', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const c = app.metrics.counter({ name: 'sized_total', help: 'Grows, then shrinks.', labelNames: ['k'], maxLabelSets: 5000 })
  // 1 series, then 3,000 (past the buffer's first 64 KiB, and past the inline gzip bound), then
  // the counter is emptied again: every render must parse to exactly its own series.
  for (const n of [1, 3000, 0, 2]) {
    c.reset()
    for (let i = 0; i < n; i++) c.inc({ k: `${'é'.repeat(i % 7)}-${i}-${'x'.repeat(60)}` }, i)
    for (const gz of [true, false]) {
      const res = await app.inject({ url: '/metrics', headers: gz ? { 'accept-encoding': 'gzip' } : {} })
      const text = gz ? gunzipSync(res.rawPayload).toString('utf8') : res.body
      t.equal(find(parseSamples(text), 'sized_total').length, n, `${n} series (${gz ? 'gzip' : 'plain'})`)
      t.ok(text.endsWith('\n') && !text.includes('\u0000'), 'ends in a newline, no stray bytes')
    }
  }
})

t.test('a collector that throws mid-render gives its buffer back: the next render is whole', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const c = app.metrics.counter({ name: 'before_total', help: 'Written before the failure.', labelNames: ['k'], maxLabelSets: 5000 })
  for (let i = 0; i < 2000; i++) c.inc({ k: `k${i}` })
  let fail = true
  app.metrics.gauge({ name: 'flaky', help: 'Throws once.', collect () { if (fail) { fail = false; throw new Error('boom') } this.set(1) } })
  t.equal((await app.inject('/metrics')).statusCode, 500)
  const ok = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } })
  t.equal(ok.statusCode, 200)
  const samples = parseSamples(gunzipSync(ok.rawPayload).toString('utf8'))
  t.equal(find(samples, 'before_total').length, 2000)
  t.equal(find(samples, 'flaky')[0]?.value, 1)
})
