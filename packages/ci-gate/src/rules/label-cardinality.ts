// label-cardinality: a metric label whose value is unbounded (request data, a URL, an id) makes a
// new time series per value. A value Fastify validated against a schema enum, or typed as a union
// of literals, is bounded.

import ts from 'typescript'
import type { Rule } from '../rule-types'
import { calleeName, linesOf, memberChain, normalizedText, objectProp, objectPropValue, propName, unwrap, walk } from '../view/ast'
import { isBoundedValue } from '../view/bounded'
import { localInitializer, METRIC_METHODS, type FileFacts } from '../view/facts'
import type { FileView } from '../view/index'

/** Members of a request (or URL) whose values are unbounded. */
const TAINTED_MEMBERS = new Set(['params', 'query', 'headers', 'body', 'url', 'originalUrl', 'href', 'pathname',
  'search', 'searchParams', 'ip', 'ips', 'hostname', 'host', 'cookies', 'raw'])
/** Members that hold the route template or route settings, which are bounded. */
const BOUNDED_MEMBERS = new Set(['routeOptions', 'routerPath', 'routeConfig', 'routeSchema'])
const ID_LIKE = /^(?:id|uuid|guid|email|token|session|sessionid|username|user)$|(?:Id|ID|Uuid|UUID|Email|Token)$|_(?:id|uuid|email|token)$/

interface LabelUse { key: string | undefined, value: ts.Expression, node: ts.Node }

/** Where a value comes from, if unbounded: `request params`, `a URL`, `an id-like field "orderId"`. */
function unboundedSource (view: FileView, expr: ts.Expression, at: ts.Node, depth = 0): string | undefined {
  const { facts } = view
  if (isBoundedValue(facts, view.routes, expr, at)) return undefined
  const e = unwrap(expr)
  if (ts.isStringLiteralLike(e) || ts.isNumericLiteral(e) || e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword) return undefined
  if (ts.isNewExpression(e)) {
    const callee = unwrap(e.expression)
    if (ts.isIdentifier(callee) && callee.text === 'URL') return 'a URL'
  }
  if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) {
    const chain = memberChain(e)
    if (chain.some((n) => BOUNDED_MEMBERS.has(n))) return undefined
    const tainted = chain.slice(1).find((n) => TAINTED_MEMBERS.has(n))
    if (tainted !== undefined) return tainted === 'url' || tainted === 'originalUrl' || tainted === 'href' || tainted === 'pathname' ? 'a URL' : `request ${tainted}`
    const last = chain[chain.length - 1]
    if (last !== undefined && ID_LIKE.test(last)) return `an id-like field "${last}"`
  }
  if (ts.isIdentifier(e)) {
    if (ID_LIKE.test(e.text)) return `an id-like field "${e.text}"`
    if (depth < 3) {
      const init = localInitializer(facts, e)
      if (init !== undefined) return unboundedSource(view, init, at, depth + 1)
    }
    return undefined
  }
  let found: string | undefined
  ts.forEachChild(e, (child) => {
    if (found === undefined && ts.isExpression(child)) found = unboundedSource(view, child, at, depth + 1)
  })
  return found
}

function labelsOfCall (facts: FileFacts, call: ts.CallExpression): LabelUse[] {
  const name = calleeName(call)
  const callee = unwrap(call.expression)
  const objectLabels = (obj: ts.ObjectLiteralExpression): LabelUse[] => obj.properties.flatMap((p): LabelUse[] => {
    if (ts.isPropertyAssignment(p)) return [{ key: propName(p.name), value: p.initializer, node: p }]
    if (ts.isShorthandPropertyAssignment(p)) return [{ key: p.name.text, value: p.name, node: p }]
    return []
  })
  if (ts.isIdentifier(callee)) {
    // `const end = histogram.startTimer(); ...; end({ route })`: the timer's end function takes labels too.
    const init = localInitializer(facts, callee)
    const made = init !== undefined ? unwrap(init) : undefined
    const first = call.arguments[0] !== undefined ? unwrap(call.arguments[0]) : undefined
    if (made !== undefined && ts.isCallExpression(made) && calleeName(made) === 'startTimer' && first !== undefined && ts.isObjectLiteralExpression(first)) return objectLabels(first)
    return []
  }
  if (name === undefined || !ts.isPropertyAccessExpression(callee)) return []
  if (name === 'labels') {
    return call.arguments.flatMap((a): LabelUse[] => {
      const u = unwrap(a)
      return ts.isObjectLiteralExpression(u) ? objectLabels(u) : [{ key: undefined, value: a, node: a }]
    })
  }
  const receiver = unwrap(callee.expression)
  const isMetricSet = name === 'set' && ts.isIdentifier(receiver) && facts.metricsVars.has(receiver.text)
  if (!METRIC_METHODS.has(name) && !isMetricSet) return []
  const first = call.arguments[0] !== undefined ? unwrap(call.arguments[0]) : undefined
  if (first === undefined || !ts.isObjectLiteralExpression(first)) return []
  const nested = objectPropValue(first, 'labels')
  if (nested !== undefined) {
    const n = unwrap(nested)
    return ts.isObjectLiteralExpression(n) ? objectLabels(n) : []
  }
  // `{ value, exemplarLabels }` without labels is prom-client's object form, not a label set.
  if (objectProp(first, 'value') !== undefined || objectProp(first, 'exemplarLabels') !== undefined) return []
  return objectLabels(first)
}

export const rule: Rule = {
  meta: {
    id: 'label-cardinality',
    defaultSeverity: 'error',
    description: 'A metric label whose value comes from request params, query, headers or body, from a URL, or from an id-like field: every distinct value creates a new time series.',
    fix: 'Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.',
    docs: {
      anchor: 'label-cardinality',
      finds: 'A metric label (prom-client `inc/dec/observe/startTimer/labels`, the end function `startTimer()` returns, `set` on a metric, the `{ labels }` object form) whose value comes from `request.params/query/headers/body/ip`, a URL (`request.url`, `new URL()`, `href`, `pathname`), including through a local variable, or whose name or value is id-like (`id`, `*Id`, `*_id`, `uuid`, `email`, `token`, `user`...). `request.routeOptions.url` (the template) is fine, and so is a value that is bounded: validated by the route\'s schema against an `enum` or `const` (JSON schema or TypeBox `Literal`/`Union`/`Enum`, on `params`, `querystring`, `body` or `headers`), or typed as a union of literals (route generics such as `app.get<{ Querystring: Q }>`, `FastifyRequest<{ Params: P }>`, an `as` cast, a typed variable, an enum, `(typeof LIST)[number]`), through same-file declarations. An id-like label name is flagged whatever its value.',
      fails: '`orders.inc({ customer: request.body.customerId })`',
      passes: '`orders.inc({ status: \'created\' })`; put the id on the span'
    }
  },
  check (view, report) {
    const { sf } = view
    walk(sf, (node) => {
      if (!ts.isCallExpression(node)) return
      for (const use of labelsOfCall(view.facts, node)) {
        const metric = normalizedText(sf, node.expression)
        const label = use.key !== undefined ? `label "${use.key}"` : 'a label'
        const idKey = use.key !== undefined && ID_LIKE.test(use.key)
        const source = idKey ? undefined : unboundedSource(view, use.value, use.node)
        if (!idKey && source === undefined) continue
        const message = idKey ? `${label} of ${metric}() is an id-like label` : `${label} of ${metric}() takes its value from ${source ?? ''}`
        report({ node: use.node, span: [linesOf(sf, use.node)], anchor: `${metric} ${normalizedText(sf, use.node)}`, message })
      }
    })
  }
}
