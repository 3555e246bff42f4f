// no-console: console.* where a request is being handled (handlers, plugins, hooks, error and
// not-found handlers) writes a line without trace id, level or request context.

import ts from 'typescript'
import type { Rule } from '../rule-types'
import { isInside, linesOf, memberChain, normalizedText, walk } from '../view/ast'

export const rule: Rule = {
  meta: {
    id: 'no-console',
    defaultSeverity: 'error',
    description: 'console.* inside a route handler, a Fastify plugin, hook or error handler: the line carries no trace id, no level and no request context.',
    fix: 'Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.',
    docs: {
      anchor: 'no-console',
      finds: '`console.*` inside a route handler, a plugin (functions given to `register`, wrapped with `fastify-plugin`, or taking a `FastifyInstance`), a hook (`addHook`) or an error or not-found handler (`setErrorHandler`, `setNotFoundHandler`).',
      fails: '`app.get(\'/x\', async () => { console.log(\'hit\') })`',
      passes: '`request.log.info(\'hit\')`'
    }
  },
  check (view, report) {
    const containers = new Set<ts.Node>([...view.handlerFns, ...view.plugins])
    walk(view.sf, (node) => {
      if (!ts.isCallExpression(node)) return
      const chain = memberChain(node.expression)
      if (chain.length !== 2 || chain[0] !== 'console') return
      const where = isInside(node, containers) ? 'a route handler or plugin' : isInside(node, view.hooks) ? 'a Fastify hook or error handler' : undefined
      if (where === undefined) return
      report({ node, span: [linesOf(view.sf, node)], anchor: normalizedText(view.sf, node), message: `console.${chain[1] ?? ''}() inside ${where}` })
    })
  }
}
