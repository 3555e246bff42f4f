// route-instrumented: a handler that does real work carries the required instrumentation, or
// (default mode) its project registers the three @o11y plugins, which observe every route that
// does not opt out.

import { CATEGORIES, type Category } from '../constants'
import type { Rule } from '../rule-types'
import type { RequiredCategories } from '../types'

function describeMissing (present: Set<Category>, req: RequiredCategories): string | undefined {
  if (req === 'any') return present.size > 0 ? undefined : 'has no tracing, metrics or logging'
  const cats = req === 'all' ? [...CATEGORIES] : req
  const missing = cats.filter((c) => !present.has(c))
  return missing.length === 0 ? undefined : `is missing ${missing.join(', ')}`
}

export const rule: Rule = {
  meta: {
    id: 'route-instrumented',
    defaultSeverity: 'error',
    description: 'A new or changed Fastify route handler that does real work (calls, awaits) must contain the required instrumentation categories: tracing, metrics, logging.',
    fix: 'Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).',
    docs: {
      anchor: 'route-instrumented',
      finds: 'A new or changed route handler that does real work (a call or an `await`, other than the reply API and pure globals such as `JSON`, `Math`, `Date`, `process`) without the required categories. **Tracing**: `withSpan`, `startActiveSpan`, `startSpan`, `addSpanEvent`, `addSpanAttributes`, `recordException`, `span.setAttribute(s)/addEvent/setStatus`. **Metrics**: `x.metrics.*` (e.g. `app.metrics.track`, a business-metrics object), `track()`, prom-client `inc`/`dec`/`observe`/`startTimer`, `set` on a metric. **Logging**: `request.log.*`, `fastify.log.*`, any `*.log.<level>`, a `log` destructured from a parameter or object (`async ({ log }) => { log.info(...) }`), a logger from `getLogger()`/`createLogger()` of `@o11y/logging` (and its `.child()`). Default: at least one category, and a route of a project that registers all three @o11y plugins counts as observed (see [Plugin coverage](#plugin-coverage)); `--strict`: all three categories in the handler; `requiredCategories`: the listed ones in the handler.',
      fails: '`app.get(\'/o/:id\', async (req) => db.get(req.params.id))`',
      passes: '`app.get(\'/o/:id\', async (req) => { req.log.info(\'load\'); return db.get(req.params.id) })`'
    }
  },
  check (view, report) {
    for (const h of view.checked) {
      const missing = describeMissing(new Set([...h.present, ...h.fromPlugins]), view.rules.requiredCategories)
      if (missing === undefined) continue
      report({ node: h.route.call, span: h.span, anchor: h.route.label, message: `route handler ${h.route.label} ${missing}` })
    }
  }
}
