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
