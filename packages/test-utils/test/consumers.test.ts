import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers } from '../src/index'

t.test('a built package is loaded by an ESM and a CommonJS consumer with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/test-utils', join(__dirname, '..'))
  t.ok(seen.cjs.includes('loadAsConsumers'))
  t.same(seen.esm, seen.cjs)
})

t.test('a missing package makes both consumers fail loudly', async (t) => {
  t.throws(() => loadAsConsumers('@o11y/does-not-exist', join(__dirname, '..')))
})
