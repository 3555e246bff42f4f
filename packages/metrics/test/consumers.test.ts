import { resolve } from 'node:path'
import { loadAsConsumers, runAsConsumer } from '@o11y/test-utils'
import t from 'tap'

const cwd = resolve(__dirname, '..')

t.test('the built package loads from ESM and CommonJS consumers with the same named exports', async (t) => {
  const { esm, cjs } = loadAsConsumers('@o11y/metrics', cwd)
  for (const name of ['o11yMetrics', 'tracked', 'METRIC_NAMES', 'MetricsError', 'render', 'negotiate']) {
    t.ok(esm.includes(name), `ESM sees ${name}`)
    t.ok(cjs.includes(name), `CJS sees ${name}`)
  }
  t.same(esm, cjs)
})

const run = (type: 'module' | 'commonjs', source: string): unknown => runAsConsumer(type, source, cwd)

/** Registers `plugin`, answers one request and returns that request's counter line from /metrics. */
const probe = `
  async function probe (Fastify, plugin) {
    const app = Fastify()
    await app.register(plugin)
    app.get('/hello/:name', async () => 'hi')
    await app.inject('/hello/ada')
    const text = (await app.inject('/metrics')).body
    await app.close()
    return text.split('\\n').find((l) => l.startsWith('http_requests_total{') && l.includes('route="/hello/:name"')) ?? 'no request series'
  }
`
const LINE = 'http_requests_total{method="GET",route="/hello/:name",status_code="200"} 1'

t.test('CommonJS: require(), .default and the named export all register the plugin', async (t) => {
  const result = run('commonjs', `
    const Fastify = require('fastify')
    ${probe}
    const metrics = require('@o11y/metrics')
    ;(async () => {
      const out = {
        kind: typeof metrics,
        same: metrics === metrics.default && metrics === metrics.o11yMetrics,
        require: await probe(Fastify, require('@o11y/metrics')),
        default: await probe(Fastify, metrics.default),
        named: await probe(Fastify, require('@o11y/metrics').o11yMetrics)
      }
      console.log(JSON.stringify(out))
    })()
  `)
  t.same(result, { kind: 'function', same: true, require: LINE, default: LINE, named: LINE })
})

t.test('ESM: the default import, its .default and the named import all register the plugin, one instance with CommonJS', async (t) => {
  const result = run('module', `
    import Fastify from 'fastify'
    import metrics, { o11yMetrics } from '@o11y/metrics'
    import { createRequire } from 'node:module'
    ${probe}
    const cjs = createRequire(process.cwd() + '/')('@o11y/metrics')
    const out = {
      kind: typeof metrics,
      same: metrics === o11yMetrics && metrics.default === o11yMetrics && cjs === o11yMetrics,
      displayName: o11yMetrics[Symbol.for('fastify.display-name')],
      require: await probe(Fastify, metrics),
      default: await probe(Fastify, metrics.default),
      named: await probe(Fastify, o11yMetrics)
    }
    console.log(JSON.stringify(out))
  `)
  t.same(result, { kind: 'function', same: true, displayName: '@o11y/metrics', require: LINE, default: LINE, named: LINE })
})
