import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ERROR_CODE_PREFIXES } from '@o11y/semconv'
import { ERROR_CODES, ERROR_MESSAGES } from '../src/errors'

t.test('one catalogue: { KEY: O11Y_ERR_<PKG>_KEY } with a message for each, every code in docs/errors.md', async (t) => {
  const docs = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8')
  t.same(Object.keys(ERROR_MESSAGES), Object.keys(ERROR_CODES))
  for (const [key, code] of Object.entries(ERROR_CODES)) {
    t.equal(code, `${ERROR_CODE_PREFIXES.ciGate}${key}`, `${key}: the prefix of @o11y/semconv`)
    t.ok((ERROR_MESSAGES as Record<string, string>)[key]?.length, `${key} has a message`)
    t.ok(docs.includes(`| \`${code}\` |`), `${code} is listed in docs/errors.md`)
  }
  t.equal(new Set(Object.values(ERROR_CODES)).size, Object.keys(ERROR_CODES).length, 'codes are unique')
})
