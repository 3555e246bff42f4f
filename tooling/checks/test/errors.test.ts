// One error catalogue shape in every package that raises or warns with codes (docs/architecture.md,
// "One package convention"): `ERROR_CODES` maps KEY to `O11Y_ERR_<PKG>_<KEY>`, `ERROR_MESSAGES`
// says in one line what each KEY means (warnings included), and docs/errors.md lists every code.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ERROR_CODE_PREFIXES } from '@o11y/semconv'
import t from 'tap'

const ROOT = resolve(__dirname, '../../..')
const docs = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')

/** Package folder -> the code prefix of its catalogue (@o11y/semconv holds the one list). */
const PACKAGES: Record<string, string> = {
  metrics: ERROR_CODE_PREFIXES.metrics,
  tracing: ERROR_CODE_PREFIXES.tracing,
  logging: ERROR_CODE_PREFIXES.logging,
  'ci-gate': ERROR_CODE_PREFIXES.ciGate,
  slo: ERROR_CODE_PREFIXES.slo
}

interface Catalogue { ERROR_CODES?: Record<string, string>, ERROR_MESSAGES?: Record<string, string> }

for (const [dir, prefix] of Object.entries(PACKAGES)) {
  t.test(`@o11y/${dir}: one catalogue { KEY: '${prefix}KEY' } with a message per key, every code in docs/errors.md`, async (t) => {
    // The built module the package ships (src/errors.ts), as its users load it.
    const mod = require(join(ROOT, 'packages', dir, 'dist', 'errors.js')) as Catalogue
    const codes = mod.ERROR_CODES
    const messages = mod.ERROR_MESSAGES
    if (!t.type(codes, 'object', 'ERROR_CODES is exported from errors.ts') || codes === undefined) return
    if (!t.type(messages, 'object', 'ERROR_MESSAGES is exported from errors.ts') || messages === undefined) return
    t.ok(Object.keys(codes).length > 0, 'the catalogue is not empty')
    for (const [key, code] of Object.entries(codes)) {
      t.equal(code, `${prefix}${key}`, `${key}: the code is the prefix and the key`)
      t.match(docs, `\`${code}\``, `${code} is listed in docs/errors.md`)
    }
    t.same(Object.keys(messages).sort(), Object.keys(codes).sort(), 'ERROR_MESSAGES has exactly the keys of ERROR_CODES')
    for (const [key, message] of Object.entries(messages)) t.ok(typeof message === 'string' && message.trim().length > 0, `${key}: a message`)
  })
}
