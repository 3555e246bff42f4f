import t from 'tap'
import { ServerProcess } from '../src/runner'
import { orderBody } from '../src/routes'
import { SCENARIOS } from '../src/scenarios'

// Smoke test: every scenario starts in its own process and answers both routes like the
// benchmark will drive it. No timings here (they are measured by `pnpm bench` only).
for (const scenario of SCENARIOS) {
  t.test(`${scenario.id} starts and answers`, async (t) => {
    const server = await ServerProcess.start(scenario.id)
    t.teardown(() => server.stop())

    const order = await fetch(server.url('/api/orders/7'))
    t.equal(order.status, 200)
    t.match(order.headers.get('content-type'), /^application\/json/)
    t.same(await order.json(), orderBody('7'))

    const health = await fetch(server.url('/health'))
    t.equal(health.status, 200)
    t.same(await health.json(), { status: 'ok' })

    if (scenario.metrics) {
      const metrics = await fetch(server.url('/metrics'))
      t.equal(metrics.status, 200)
      const text = await metrics.text()
      t.match(text, /^http_request_duration_seconds_bucket\{.*route="\/api\/orders\/:id".*\} 1$/m, 'the order request is in the duration histogram')
    }

    const stats = await server.stats()
    if (scenario.tracing) {
      t.ok((stats.spansExported ?? 0) >= 2, `spans reached the counting exporter (${stats.spansExported})`)
    } else {
      t.equal(stats.spansExported, undefined, 'no tracing pipeline')
    }

    const heap = await server.heap()
    t.ok(heap.heapUsed > 0 && heap.rss >= heap.heapUsed, 'post-GC heap is reported')
    t.ok(server.cpuMicros() > 0, 'CPU time is read from /proc')
    t.ok(server.rssBytes() > 0, 'RSS is read from /proc')
  })
}

t.test('an unknown scenario is refused before anything starts', async (t) => {
  await t.rejects(ServerProcess.start('nope' as never, { startTimeoutMs: 20000 }), /unknown scenario "nope"|exited with code 1/)
})
