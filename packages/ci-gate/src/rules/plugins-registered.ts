// plugins-registered: a file that builds a Fastify app with routes belongs to a project that sets
// up the three @o11y packages somewhere.

import { O11Y_PACKAGES } from '../constants'
import type { Rule } from '../rule-types'
import { createsFastify, hasRegisterCall } from '../view/registrations'

export const rule: Rule = {
  meta: {
    id: 'plugins-registered',
    defaultSeverity: 'error',
    description: 'A file that creates a Fastify instance and registers routes, in a project that never registers @o11y/metrics, @o11y/tracing or the @o11y/logging logger.',
    fix: 'Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).',
    docs: {
      anchor: 'plugins-registered',
      finds: 'A file that creates a Fastify instance (`Fastify()` from `fastify`) and registers routes or plugins, in a project (the nearest `package.json`) none of whose source files registers `@o11y/metrics`, `@o11y/tracing` or the `@o11y/logging` logger (`fastifyLoggerOptions()`, `createLogger()` or `register(o11yLogging)`).',
      fails: '`const app = Fastify(); app.get(\'/x\', h)` with no `app.register(o11yMetrics)` anywhere',
      passes: '`Fastify({ ...fastifyLoggerOptions() })` + `register(o11yMetrics)` + `register(o11yTracing)`'
    }
  },
  check (view, report) {
    const project = view.project
    if (project === undefined) return
    const create = createsFastify(view.facts)
    if (create === undefined || (view.routes.length === 0 && !hasRegisterCall(view.facts))) return
    const reg = project.registrations
    const missing = [
      reg.metrics ? undefined : O11Y_PACKAGES.metrics,
      reg.tracing ? undefined : O11Y_PACKAGES.tracing,
      reg.logging ? undefined : `the ${O11Y_PACKAGES.logging} logger`
    ].filter((m): m is string => m !== undefined)
    if (missing.length === 0) return
    const name = project.name !== undefined ? ` (${project.name})` : ''
    // Judged whenever the file changed: the whole file is its span.
    report({ node: create, span: [[1, Number.MAX_SAFE_INTEGER]], anchor: 'fastify-instance', message: `this file creates a Fastify app with routes but its project${name} never registers ${missing.join(', ')}` })
  }
}
