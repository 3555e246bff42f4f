import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'

t.test('the built package is loaded by an ESM and a CommonJS consumer with the same named exports', async (t) => {
  const seen = loadAsConsumers('@o11y/slo', join(__dirname, '..'))
  for (const name of ['loadSpec', 'parseSpec', 'validateSpec', 'buildRules', 'buildRuleTests', 'buildDashboard', 'generateFiles', 'checkFiles', 'run', 'SloError', 'ERROR_CODES', 'RECORDS']) {
    t.ok(seen.cjs.includes(name), `CommonJS sees ${name}`)
  }
  t.same(seen.esm, seen.cjs)
})
