import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers, runAsConsumer } from '@o11y/test-utils'

const cwd = join(__dirname, '..')

t.test('the built package loads from ESM and CommonJS consumers with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/tracing', cwd)
  for (const name of ['o11yTracing', 'startTracing', 'withSpan', 'addSpanAttributes', 'addSpanEvent', 'getTracer', 'getActiveTracing']) {
    t.ok(seen.cjs.includes(name), `CommonJS sees ${name}`)
  }
  t.same(seen.esm, seen.cjs)
})


const run = (type: 'module' | 'commonjs', source: string): unknown => runAsConsumer(type, source, cwd)

/** Registers `plugin`, answers one request; says whether Fastify knows the plugin and the status. */
const probe = `
  async function probe (Fastify, plugin) {
    const app = Fastify()
    await app.register(plugin)
    app.get('/hello/:name', async () => 'hi')
    const res = await app.inject('/hello/ada')
    const known = app.hasPlugin('@o11y/tracing')
    await app.close()
    return (known ? 'registered ' : 'unknown ') + res.statusCode
  }
`

t.test('CommonJS: require(), .default and the named export all register the plugin', async (t) => {
  const result = run('commonjs', `
    const Fastify = require('fastify')
    ${probe}
    const tracing = require('@o11y/tracing')
    ;(async () => {
      const out = {
        kind: typeof tracing,
        same: tracing === tracing.default && tracing === tracing.o11yTracing,
        helpers: typeof tracing.withSpan + ' ' + typeof tracing.startTracing,
        require: await probe(Fastify, require('@o11y/tracing')),
        default: await probe(Fastify, tracing.default),
        named: await probe(Fastify, require('@o11y/tracing').o11yTracing)
      }
      console.log(JSON.stringify(out))
    })()
  `)
  t.same(result, { kind: 'function', same: true, helpers: 'function function', require: 'registered 200', default: 'registered 200', named: 'registered 200' })
})

t.test('ESM: the default import, its .default and the named import all register the plugin, one instance with CommonJS', async (t) => {
  const result = run('module', `
    import Fastify from 'fastify'
    import tracing, { o11yTracing } from '@o11y/tracing'
    import { createRequire } from 'node:module'
    ${probe}
    const cjs = createRequire(process.cwd() + '/')('@o11y/tracing')
    const out = {
      kind: typeof tracing,
      same: tracing === o11yTracing && tracing.default === o11yTracing && cjs === o11yTracing,
      require: await probe(Fastify, tracing),
      default: await probe(Fastify, tracing.default),
      named: await probe(Fastify, o11yTracing)
    }
    console.log(JSON.stringify(out))
  `)
  t.same(result, { kind: 'function', same: true, require: 'registered 200', default: 'registered 200', named: 'registered 200' })
})
