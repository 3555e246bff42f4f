import { resolve } from 'node:path'
import { loadAsConsumers, pluginShapes } from '@o11y/test-utils'
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

/** Registers `plugin`, answers one request and returns that request's counter line from /metrics. */
const probe = `
  async function probe (Fastify, mod, plugin) {
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

t.test('require(), .default and the named export all register the plugin, from CommonJS and from ESM (one instance)', async (t) => {
  const shapes = pluginShapes('@o11y/metrics', 'o11yMetrics', probe, cwd)
  const expected = { kind: 'function', same: true, displayName: '@o11y/metrics', require: LINE, default: LINE, named: LINE }
  t.same(shapes.commonjs, expected, 'CommonJS')
  t.same(shapes.module, expected, 'ESM')
})
