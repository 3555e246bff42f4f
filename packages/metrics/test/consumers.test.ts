import { resolve } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'
import t from 'tap'

t.test('the built package loads from ESM and CommonJS consumers with the same named exports', async (t) => {
  const { esm, cjs } = loadAsConsumers('@o11y/metrics', resolve(__dirname, '..'))
  for (const name of ['o11yMetrics', 'tracked', 'METRIC_NAMES', 'MetricsError', 'render', 'negotiate']) {
    t.ok(esm.includes(name), `ESM sees ${name}`)
    t.ok(cjs.includes(name), `CJS sees ${name}`)
  }
  t.same(esm, cjs)
})
