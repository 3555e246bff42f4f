import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'

t.test('the built package loads from ESM and CommonJS consumers with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/tracing', join(__dirname, '..'))
  for (const name of ['o11yTracing', 'startTracing', 'withSpan', 'addSpanAttributes', 'addSpanEvent', 'getTracer', 'getActiveTracing']) {
    t.ok(seen.cjs.includes(name), `CommonJS sees ${name}`)
  }
  t.same(seen.esm, seen.cjs)
})

t.test('the ESM default import is the plugin; CommonJS gets it as .default and .o11yTracing, one instance', async (t) => {
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process')
  const env = { ...process.env, NODE_OPTIONS: '' }
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import o11yTracing, { o11yTracing as named } from '@o11y/tracing'
    import Fastify from 'fastify'
    const app = Fastify()
    await app.register(o11yTracing)
    await app.ready()
    console.log(JSON.stringify([typeof o11yTracing, o11yTracing === named, app.hasPlugin('@o11y/tracing')]))
    await app.close()`], { cwd: join(__dirname, '..'), encoding: 'utf8', env })
  t.same(JSON.parse(esm.trim()), ['function', true, true])
  const cjs = execFileSync(process.execPath, ['-e', `
    const tracing = require('@o11y/tracing')
    const app = require('fastify')()
    app.register(tracing.o11yTracing).ready().then(() => {
      console.log(JSON.stringify([typeof tracing.default, tracing.default === tracing.o11yTracing, typeof tracing.withSpan, app.hasPlugin('@o11y/tracing')]))
      return app.close()
    })`], { cwd: join(__dirname, '..'), encoding: 'utf8', env })
  t.same(JSON.parse(cjs.trim()), ['function', true, 'function', true])
})
