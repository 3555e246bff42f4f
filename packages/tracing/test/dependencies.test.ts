import t from 'tap'
import { join, relative } from 'node:path'
import { packageVersion, resolvePackageDir } from '@o11y/test-utils'

// Each copy of @opentelemetry/instrumentation that constructs an instrumentation puts its own
// catch-all require hook (require-in-the-middle) in front of every later `require` of the app: a
// second copy was a fifth of the instructions tracing adds to start-up (docs/benchmarks.md). The
// catalog keeps instrumentation-http on the release line of undici and pg; this fails when a
// bump splits them again. (tooling/release's platform test checks the same on a fresh npm
// install.)
t.test('@o11y/tracing and the http, undici and pg instrumentations load one @opentelemetry/instrumentation', async (t) => {
  const root = join(__dirname, '..')
  const seen = [
    { by: '@o11y/tracing', dir: resolvePackageDir('@opentelemetry/instrumentation', root) },
    ...['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-undici', '@opentelemetry/instrumentation-pg'].map((name) => {
      const pkg = resolvePackageDir(name, root)
      return { by: name, dir: pkg === undefined ? undefined : resolvePackageDir('@opentelemetry/instrumentation', pkg) }
    })
  ]
  const described = seen.map((s) => `${s.by} -> ${s.dir === undefined ? 'none' : `${relative(root, s.dir)}@${packageVersion(s.dir)}`}`).join(', ')
  t.ok(seen.every((s) => s.dir !== undefined), `each finds @opentelemetry/instrumentation (${described})`)
  t.equal(new Set(seen.map((s) => s.dir)).size, 1, `one and the same copy, so one require hook, not two (${described})`)
})
