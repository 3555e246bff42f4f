import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers, pluginShapes } from '@o11y/test-utils'

const cwd = join(__dirname, '..')

t.test('the built package loads from ESM and CommonJS consumers with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/tracing', cwd)
  for (const name of ['o11yTracing', 'startTracing', 'withSpan', 'addSpanAttributes', 'addSpanEvent', 'getTracer', 'getActiveTracing']) {
    t.ok(seen.cjs.includes(name), `CommonJS sees ${name}`)
  }
  t.same(seen.esm, seen.cjs)
})


/** Registers `plugin`, answers one request; says whether Fastify knows the plugin, the status, and that the helpers are there. */
const probe = `
  async function probe (Fastify, mod, plugin) {
    const app = Fastify()
    await app.register(plugin)
    app.get('/hello/:name', async () => 'hi')
    const res = await app.inject('/hello/ada')
    const known = app.hasPlugin('@o11y/tracing')
    await app.close()
    return (known ? 'registered ' : 'unknown ') + res.statusCode + ' ' + typeof mod.withSpan + ' ' + typeof mod.startTracing
  }
`
const SEEN = 'registered 200 function function'

t.test('require(), .default and the named export all register the plugin, from CommonJS and from ESM (one instance)', async (t) => {
  const shapes = pluginShapes('@o11y/tracing', 'o11yTracing', probe, cwd)
  const expected = { kind: 'function', same: true, displayName: '@o11y/tracing', require: SEEN, default: SEEN, named: SEEN }
  t.same(shapes.commonjs, expected, 'CommonJS')
  t.same(shapes.module, expected, 'ESM')
})
