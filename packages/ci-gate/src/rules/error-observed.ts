// error-observed: a catch block rethrows, logs, records the error on a span, counts it, or hands
// it on; otherwise the failure leaves no signal.

import ts from 'typescript'
import type { Rule } from '../rule-types'
import { calleeName, enclosingFunctionName, lineOf, normalizedText, rootIdentifier, unwrap, walk } from '../view/ast'
import { categoryOfCall, isLoggingCall, type FileFacts } from '../view/facts'
import { PURE_GLOBALS, REPLY_METHODS } from '../view/handlers'

function mentions (expr: ts.Node, name: string): boolean {
  if (ts.isIdentifier(expr)) return expr.text === name
  let found = false
  ts.forEachChild(expr, (c) => {
    if (!found && !(ts.isPropertyAccessExpression(expr) && c === expr.name)) found = mentions(c, name)
  })
  return found
}

function catchIsObserved (facts: FileFacts, clause: ts.CatchClause): boolean {
  const errName = clause.variableDeclaration !== undefined && ts.isIdentifier(clause.variableDeclaration.name)
    ? clause.variableDeclaration.name.text
    : undefined
  let observed = false
  walk(clause.block, (node) => {
    if (observed) return
    if (ts.isThrowStatement(node)) { observed = true; return }
    if (!ts.isCallExpression(node)) return
    const cat = categoryOfCall(facts, node)
    if (cat === 'tracing' || cat === 'metrics' || isLoggingCall(facts, node)) { observed = true; return }
    if (errName === undefined) return
    // Handing the error (or something made from it) to another function makes that function
    // responsible for it: wrap(err), report(err), onError(route, err), done(err), reply.send(err).
    // Putting only its message into a reply is not: reply.code(500).send({ error: err.message }).
    const name = calleeName(node)
    const root = rootIdentifier(node.expression)
    if (root !== undefined && PURE_GLOBALS.has(root)) return
    const direct = node.arguments.some((a) => { const u = unwrap(a); return ts.isIdentifier(u) && u.text === errName })
    if (name !== undefined && REPLY_METHODS.has(name) && ts.isPropertyAccessExpression(unwrap(node.expression))) {
      if (direct) observed = true
      return
    }
    if (direct || node.arguments.some((a) => mentions(a, errName))) observed = true
  })
  return observed
}

export const rule: Rule = {
  meta: {
    id: 'error-observed',
    defaultSeverity: 'error',
    description: 'A catch block that neither rethrows, logs nor records the exception on a span: the failure disappears from every signal.',
    fix: 'Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.',
    docs: {
      anchor: 'error-observed',
      finds: 'A `catch` block that neither rethrows, logs (a logger call, `console.error/warn`, `process.emitWarning`, `process.stderr.write`), records on a span (`recordException`, `setStatus`, `addSpanEvent`), counts it with a metric, nor hands the error on to another function (`wrap(err)`, `report(err)`, `done(err)`, `reply.send(err)`). Sending only `err.message` in a reply does not count.',
      fails: '`catch (err) { reply.code(500).send({ error: err.message }) }`',
      passes: '`catch (err) { request.log.error({ err }, \'charge failed\'); throw err }`'
    }
  },
  check (view, report) {
    const { sf } = view
    walk(sf, (node) => {
      if (!ts.isCatchClause(node) || catchIsObserved(view.facts, node)) return
      const line = lineOf(sf, node.getStart(sf))
      const fn = enclosingFunctionName(node)
      // A directive may also stand as the first line inside the catch block.
      report({ node, span: [[line, line]], anchor: `${fn} ${normalizedText(sf, node)}`, alsoSuppressedAt: line + 1, message: `catch block${fn !== '' ? ` in ${fn}` : ''} neither rethrows, logs nor records the error on a span` })
    })
  }
}
