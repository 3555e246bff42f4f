import t from 'tap'
import { ServerProcess } from '../src/runner'
import { orderBody } from '../src/routes'
import { SCENARIOS } from '../src/scenarios'
import { measureClusterScrape } from '../src/cluster-scrape'

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

    const otlpCounter = ({ 'o11y-metrics-otlp': 'otlpMetricExports', 'o11y-logging-otlp': 'otlpLogExports' } as Record<string, string>)[scenario.id]
    if (otlpCounter !== undefined) {
      // Push mode and the log batch processor both export every second into the scenario's sink.
      let exports = 0
      for (let i = 0; i < 40 && exports < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        exports = (await server.stats())[otlpCounter] ?? 0
      }
      t.ok(exports >= 1, `exported over OTLP (${exports} exports)`)
    }

    if (scenario.stdout === true) {
      // The log lines of the two requests come out of the server's stdout pipe.
      for (let i = 0; i < 40 && (server.drain?.bytes ?? 0) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
      t.ok((server.drain?.bytes ?? 0) > 0, `log lines read from the stdout pipe (${server.drain?.bytes} bytes)`)
    } else {
      t.equal(server.drain, undefined, 'stdout not drained')
    }

    const stats = await server.stats()
    if (scenario.tracing) {
      // The order request (long finished): one SERVER span with @o11y/tracing's defaults and with
      // dd-trace, three with lifecycle spans (ours with lifecycleSpans, the OTel peers). /health
      // adds spans only where it is not ignored by default.
      const perRequest = ['otel-peers', 'peers-combined', 'o11y-tracing-lifecycle'].includes(scenario.id) ? 3 : 1
      t.ok((stats.spansExported ?? 0) >= perRequest, `spans reached the exporter (${stats.spansExported}, at least ${perRequest})`)
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
  await t.rejects(ServerProcess.start('nope' as never, { startTimeoutMs: 20000 }), /unknown scenario "nope"|exited \(code 1\) before it was ready/)
})

t.test('cluster scrape measurement: the workers\' label sets are summed into one set of series', async (t) => {
  const result = await measureClusterScrape({ workers: 2, labelSets: 30, iterations: 20 }) // /proc counts CPU in 10 ms ticks: enough scrapes to span several
  t.equal(result.workers, 2)
  t.equal(result.formats.length, 2)
  for (const f of result.formats) {
    // 30 summed series, plus the runtime series of both workers: far fewer than 2 x 30 + runtime.
    t.ok(f.series >= 30, `${f.accept}: ${f.series} series`)
    t.ok(f.cpuMsPerScrape > 0, 'CPU of the process group is read')
  }
})
