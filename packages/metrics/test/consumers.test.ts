import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'
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

t.test('the default export is the plugin for ESM and CommonJS consumers, and both share one instance', async (t) => {
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import o11yMetrics, { o11yMetrics as named } from '@o11y/metrics'
    import { createRequire } from 'node:module'
    const cjs = createRequire(process.cwd() + '/')('@o11y/metrics')
    console.log(JSON.stringify([typeof o11yMetrics, o11yMetrics === named, named === cjs.o11yMetrics, o11yMetrics[Symbol.for('fastify.display-name')]]))
  `], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  t.same(JSON.parse(esm.trim()), ['function', true, true, '@o11y/metrics'])
  const cjs = execFileSync(process.execPath, ['--input-type=commonjs', '-e',
    "const m = require('@o11y/metrics'); console.log(JSON.stringify([typeof m.default, m.default === m.o11yMetrics]))"
  ], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  t.same(JSON.parse(cjs.trim()), ['function', true])
})
