// Fastify routes of one file (`app.get(path, [options], handler)`, `app.route({...})`) and the
// other functions that run for a request: hooks, error and not-found handlers, plugin functions.

import ts from 'typescript'
import {
  calleeName, fromPackage, isFunctionNode, literalText, objectProp, objectPropValue, rootIdentifier, unwrap, walk,
  type FunctionNode
} from './ast'
import { constString, resolveFunction, type FileFacts } from './facts'

const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'all'])
const HOOK_METHODS = new Set(['addHook', 'setErrorHandler', 'setNotFoundHandler'])
/** Modules whose `get/post/...(url, callback)` are outgoing requests, not routes (`node:` prefix stripped). */
const HTTP_CLIENT_MODULES = new Set(['http', 'https', 'http2', 'axios', 'got', 'undici', 'superagent', 'needle', 'ky'])

export interface Route {
  call: ts.CallExpression
  /** `GET /orders/:id` */
  label: string
  handler: FunctionNode | undefined
  /** The route options object (`{ schema, config, handler }`), when written inline. */
  options: ts.ObjectLiteralExpression | undefined
}

function methodLabel (expr: ts.Expression | undefined): string {
  if (expr === undefined) return 'ROUTE'
  const e = unwrap(expr)
  const single = literalText(e)
  if (single !== undefined) return single.toUpperCase()
  if (ts.isArrayLiteralExpression(e)) {
    const parts = e.elements.map((el) => literalText(el)?.toUpperCase() ?? '?')
    return parts.join(',')
  }
  return 'ROUTE'
}

function urlLabel (facts: FileFacts, expr: ts.Expression | undefined): string {
  if (expr === undefined) return '<unknown>'
  const text = literalText(expr) ?? constString(facts, expr)
  if (text !== undefined) return text
  return expr.getText(facts.sf).replace(/\s+/g, ' ')
}

function handlerFromProp (facts: FileFacts, obj: ts.ObjectLiteralExpression): FunctionNode | undefined {
  const p = objectProp(obj, 'handler')
  if (p === undefined) return undefined
  if (ts.isMethodDeclaration(p)) return p
  if (ts.isPropertyAssignment(p)) return resolveFunction(facts, p.initializer)
  if (ts.isShorthandPropertyAssignment(p)) return resolveFunction(facts, p.name)
  return undefined
}

/** A literal that cannot be a Fastify route path (`'https://api.example'`, `'key'`): the call is an HTTP client's or a map's. */
function notARoutePath (facts: FileFacts, expr: ts.Expression | undefined): boolean {
  const text = expr === undefined ? undefined : literalText(expr) ?? constString(facts, expr)
  return text !== undefined && text !== '' && text !== '*' && !text.startsWith('/')
}

export function findRoutes (facts: FileFacts): Route[] {
  const routes: Route[] = []
  walk(facts.sf, (node) => {
    if (!ts.isCallExpression(node)) return
    const callee = unwrap(node.expression)
    if (!ts.isPropertyAccessExpression(callee)) return
    const method = callee.name.text
    const args = node.arguments
    const receiverRoot = rootIdentifier(callee.expression)
    const receiverModule = receiverRoot !== undefined ? facts.imports.get(receiverRoot) : undefined
    if (receiverModule !== undefined && HTTP_CLIENT_MODULES.has(receiverModule.replace(/^node:/, ''))) return
    if (method === 'route') {
      const first = args[0] !== undefined ? unwrap(args[0]) : undefined
      if (args.length !== 1 || first === undefined || !ts.isObjectLiteralExpression(first)) return
      const hasUrl = objectProp(first, 'url') !== undefined || objectProp(first, 'path') !== undefined
      if (!hasUrl || objectProp(first, 'handler') === undefined) return
      const url = objectPropValue(first, 'url') ?? objectPropValue(first, 'path')
      if (notARoutePath(facts, url)) return
      routes.push({ call: node, label: `${methodLabel(objectPropValue(first, 'method'))} ${urlLabel(facts, url)}`, handler: handlerFromProp(facts, first), options: first })
      return
    }
    if (!ROUTE_METHODS.has(method) || args.length < 2) return
    const path = unwrap(args[0] as ts.Expression)
    if (!(ts.isStringLiteralLike(path) || ts.isTemplateExpression(path) || ts.isIdentifier(path) || ts.isPropertyAccessExpression(path))) return
    if (notARoutePath(facts, path)) return
    const last = args[args.length - 1] as ts.Expression
    let handler = resolveFunction(facts, last)
    let options: ts.ObjectLiteralExpression | undefined
    const second = unwrap(args[1] as ts.Expression)
    if (args.length >= 3 && ts.isObjectLiteralExpression(second)) options = second
    if (handler === undefined && args.length === 2 && ts.isObjectLiteralExpression(second) && objectProp(second, 'handler') !== undefined) {
      options = second
      handler = handlerFromProp(facts, second)
    }
    const lastIsFunctionish = handler !== undefined || ts.isIdentifier(unwrap(last)) || ts.isPropertyAccessExpression(unwrap(last))
    if (!lastIsFunctionish && options === undefined) return
    if (handler === undefined && options === undefined) return
    routes.push({ call: node, label: `${method.toUpperCase()} ${urlLabel(facts, args[0])}`, handler, options })
  })
  return routes
}

/** Functions given to `addHook`, `setErrorHandler` or `setNotFoundHandler`: they run for requests too. */
export function findHookFunctions (facts: FileFacts): Set<ts.Node> {
  const hooks = new Set<ts.Node>()
  walk(facts.sf, (node) => {
    if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(unwrap(node.expression))) return
    if (!HOOK_METHODS.has(calleeName(node) ?? '')) return
    for (const arg of node.arguments) {
      const fn = resolveFunction(facts, arg)
      if (fn !== undefined) hooks.add(fn)
    }
  })
  return hooks
}

/** Functions passed to `register`, wrapped with fastify-plugin, or taking a FastifyInstance. */
export function findPluginFunctions (facts: FileFacts): Set<ts.Node> {
  const plugins = new Set<ts.Node>()
  walk(facts.sf, (node) => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node)
      const callee = unwrap(node.expression)
      const first = node.arguments[0]
      const isRegister = name === 'register' && ts.isPropertyAccessExpression(callee)
      const isFp = ts.isIdentifier(callee) && (fromPackage(facts.imports.get(callee.text), 'fastify-plugin') || callee.text === 'fp' || callee.text === 'fastifyPlugin')
      if ((isRegister || isFp) && first !== undefined) {
        const fn = resolveFunction(facts, first)
        if (fn !== undefined) plugins.add(fn)
      }
    }
    if (isFunctionNode(node)) {
      const p = node.parameters[0]
      if (p?.type !== undefined && ts.isTypeReferenceNode(p.type) && p.type.typeName.getText(facts.sf) === 'FastifyInstance') plugins.add(node)
    }
  })
  return plugins
}

/** The route whose handler function contains `node`. */
export function routeOf (routes: readonly Route[], node: ts.Node): Route | undefined {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    const route = routes.find((r) => r.handler === n)
    if (route !== undefined) return route
  }
  return undefined
}

const OPT_OUT_KEYS = new Set(['metrics', 'tracing', 'logging'])

export interface OptOut {
  key: 'metrics' | 'tracing' | 'logging'
  /** `metrics: false` */
  prop: ts.PropertyAssignment
  /** `config: { ... }` */
  configProp: ts.PropertyAssignment
}

/** `config: { metrics: false }` (or tracing, logging) in a route's inline options. */
export function optOutsOf (route: Route): OptOut[] {
  if (route.options === undefined) return []
  const configProp = objectProp(route.options, 'config')
  if (configProp === undefined || !ts.isPropertyAssignment(configProp)) return []
  const config = unwrap(configProp.initializer)
  if (!ts.isObjectLiteralExpression(config)) return []
  const out: OptOut[] = []
  for (const p of config.properties) {
    if (!ts.isPropertyAssignment(p)) continue
    const key = p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined
    if (key === undefined || !OPT_OUT_KEYS.has(key) || unwrap(p.initializer).kind !== ts.SyntaxKind.FalseKeyword) continue
    out.push({ key: key as OptOut['key'], prop: p, configProp })
  }
  return out
}
