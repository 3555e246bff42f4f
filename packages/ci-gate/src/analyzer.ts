// Reads one source file's syntax tree (TypeScript compiler API) and finds what the rules judge:
// Fastify routes and their handlers, plugin functions, instrumentation calls, metric labels,
// catch blocks, telemetry opt-outs and o11y-gate-ignore comments. Comments and strings are trivia
// or literals in the tree, so a word in them never counts as instrumentation.

import ts from 'typescript'
import { createHash } from 'node:crypto'
import { extname } from 'node:path'
import {
  CATEGORIES, O11Y_PACKAGES, RULE_IDS, SUPPRESSION_DIRECTIVE,
  type Category, type RuleId, type Severity, type SeverityOrOff
} from './constants'
import { RULES_BY_ID, ruleMeta } from './rules'
import type { Finding, HandlerCoverage, RequiredCategories } from './types'

const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'all'])
const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
const REPLY_METHODS = new Set(['send', 'code', 'status', 'header', 'headers', 'type', 'redirect', 'serialize',
  'hijack', 'removeHeader', 'getHeader', 'getHeaders', 'hasHeader', 'callNotFound', 'view', 'then'])
/** Calls on these globals compute values; they are not the "real work" a handler must instrument. */
const PURE_GLOBALS = new Set(['JSON', 'Math', 'Object', 'Array', 'String', 'Number', 'Boolean', 'Date', 'Symbol',
  'Reflect', 'process', 'parseInt', 'parseFloat', 'isNaN', 'encodeURIComponent', 'decodeURIComponent'])
const TRACING_CALLS = new Set(['withSpan', 'startActiveSpan', 'startSpan', 'addSpanEvent', 'addSpanAttributes', 'recordException'])
const SPAN_METHODS = new Set(['setAttribute', 'setAttributes', 'addEvent', 'setStatus', 'recordException', 'updateName'])
const METRIC_METHODS = new Set(['inc', 'dec', 'observe', 'startTimer'])
const METRIC_FACTORIES = new Set(['counter', 'gauge', 'histogram', 'summary'])
const PROM_CLASSES = new Set(['Counter', 'Gauge', 'Histogram', 'Summary'])
const LOGGER_FACTORIES = new Set(['getLogger', 'createLogger'])
const OPT_OUT_KEYS = new Set(['metrics', 'tracing', 'logging'])
const HOOK_METHODS = new Set(['addHook', 'setErrorHandler', 'setNotFoundHandler'])
/** Modules whose `get/post/...(url, callback)` are outgoing requests, not routes (`node:` prefix stripped). */
const HTTP_CLIENT_MODULES = new Set(['http', 'https', 'http2', 'axios', 'got', 'undici', 'superagent', 'needle', 'ky'])
/** Members of a request (or URL) whose values are unbounded. */
const TAINTED_MEMBERS = new Set(['params', 'query', 'headers', 'body', 'url', 'originalUrl', 'href', 'pathname',
  'search', 'searchParams', 'ip', 'ips', 'hostname', 'host', 'cookies', 'raw'])
/** Members that hold the route template or route settings, which are bounded. */
const BOUNDED_MEMBERS = new Set(['routeOptions', 'routerPath', 'routeConfig', 'routeSchema'])
const ID_LIKE = /^(?:id|uuid|guid|email|token|session|sessionid|username|user)$|(?:Id|ID|Uuid|UUID|Email|Token)$|_(?:id|uuid|email|token)$/

export interface FileRules {
  severity: (rule: RuleId) => SeverityOrOff
  requiredCategories: RequiredCategories
}

export interface AnalyzeInput {
  /** Path shown in findings. */
  file: string
  text: string
  rules: FileRules
  /** When set, only findings whose lines intersect a changed line are reported. */
  changed?: (startLine: number, endLine: number) => boolean
  /** What the file's project registers; undefined skips `plugins-registered`. */
  projectRegistrations?: Registrations
  projectName?: string
}

export interface FileAnalysis {
  findings: Finding[]
  handlers: HandlerCoverage[]
  suppressed: number
}

export interface Registrations {
  metrics: boolean
  tracing: boolean
  logging: boolean
}

interface RawFinding {
  ruleId: RuleId
  node: ts.Node
  /** Lines (1-based) that decide whether the finding is part of a change. */
  span: [number, number][]
  message: string
  anchor: string
}

type FunctionNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration

interface Route {
  call: ts.CallExpression
  label: string
  handler: FunctionNode | undefined
  options: ts.ObjectLiteralExpression | undefined
}

export function scriptKindFor (file: string): ts.ScriptKind {
  const ext = extname(file).toLowerCase()
  return ext === '.js' || ext === '.mjs' || ext === '.cjs' ? ts.ScriptKind.JS : ts.ScriptKind.TS
}

export function parse (file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKindFor(file))
}

function isFunctionNode (node: ts.Node): node is FunctionNode {
  return ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)
}

function unwrap (expr: ts.Expression): ts.Expression {
  let e = expr
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) ||
    ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isAwaitExpression(e)) {
    e = e.expression
  }
  return e
}

function propName (name: ts.PropertyName | ts.MemberName): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text
  return undefined
}

/** The member name a call calls (`a.b.c()` -> `c`, `f()` -> `f`). */
function calleeName (call: ts.CallExpression): string | undefined {
  const callee = unwrap(call.expression)
  if (ts.isIdentifier(callee)) return callee.text
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text
  return undefined
}

/** Names along a member chain, outermost last: `request.log.info` -> ['request', 'log', 'info']. */
function memberChain (expr: ts.Expression): string[] {
  const names: string[] = []
  let e: ts.Expression = unwrap(expr)
  for (;;) {
    if (ts.isPropertyAccessExpression(e)) {
      names.unshift(e.name.text)
      e = unwrap(e.expression)
    } else if (ts.isElementAccessExpression(e)) {
      const arg = e.argumentExpression
      names.unshift(ts.isStringLiteralLike(arg) ? arg.text : '[]')
      e = unwrap(e.expression)
    } else if (ts.isCallExpression(e)) {
      const inner = calleeName(e)
      names.unshift(`${inner ?? ''}()`)
      e = unwrap(e.expression)
      if (ts.isIdentifier(e)) return names
    } else if (ts.isIdentifier(e)) {
      names.unshift(e.text)
      return names
    } else if (e.kind === ts.SyntaxKind.ThisKeyword) {
      names.unshift('this')
      return names
    } else {
      return names
    }
  }
}

function rootIdentifier (expr: ts.Expression): string | undefined {
  let e: ts.Expression = unwrap(expr)
  for (;;) {
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isCallExpression(e)) e = unwrap(e.expression)
    else if (ts.isIdentifier(e)) return e.text
    else return undefined
  }
}

function lineOf (sf: ts.SourceFile, pos: number): number {
  return sf.getLineAndCharacterOfPosition(pos).line + 1
}

function linesOf (sf: ts.SourceFile, node: ts.Node): [number, number] {
  return [lineOf(sf, node.getStart(sf)), lineOf(sf, node.getEnd())]
}

function walk (node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node)
  ts.forEachChild(node, (child) => walk(child, visit))
}

function normalizedText (sf: ts.SourceFile, node: ts.Node): string {
  return node.getText(sf).replace(/\s+/g, ' ').trim().slice(0, 160)
}

/** Module bindings of a file: local name -> module specifier. */
function collectImports (sf: ts.SourceFile): Map<string, string> {
  const imports = new Map<string, string>()
  for (const stmt of sf.statements) {
    if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
      const from = stmt.moduleSpecifier.text
      const clause = stmt.importClause
      if (clause === undefined) continue
      if (clause.name !== undefined) imports.set(clause.name.text, from)
      const bindings = clause.namedBindings
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) imports.set(bindings.name.text, from)
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) imports.set(el.name.text, from)
      }
    }
  }
  // CommonJS: const x = require('m'), const { a, b: c } = require('m')
  walk(sf, (node) => {
    if (!ts.isVariableDeclaration(node) || node.initializer === undefined) return
    const from = requireSpecifier(node.initializer)
    if (from === undefined) return
    if (ts.isIdentifier(node.name)) imports.set(node.name.text, from)
    else if (ts.isObjectBindingPattern(node.name)) {
      for (const el of node.name.elements) if (ts.isIdentifier(el.name)) imports.set(el.name.text, from)
    }
  })
  return imports
}

function requireSpecifier (expr: ts.Expression): string | undefined {
  let e = unwrap(expr)
  if (ts.isPropertyAccessExpression(e)) e = unwrap(e.expression) // require('m').default
  if (ts.isCallExpression(e) && e.arguments.length === 1) {
    const arg = e.arguments[0] as ts.Expression
    const callee = e.expression
    const isRequire = ts.isIdentifier(callee) && callee.text === 'require'
    const isImport = callee.kind === ts.SyntaxKind.ImportKeyword
    if ((isRequire || isImport) && ts.isStringLiteralLike(arg)) return arg.text
  }
  return undefined
}

function fromPackage (specifier: string | undefined, pkg: string): boolean {
  return specifier !== undefined && (specifier === pkg || specifier.startsWith(pkg + '/'))
}

/** Functions a file declares by name: function declarations and `const f = () => {}`. */
function collectFunctions (sf: ts.SourceFile): Map<string, FunctionNode> {
  const fns = new Map<string, FunctionNode>()
  walk(sf, (node) => {
    if (ts.isFunctionDeclaration(node) && node.name !== undefined && node.body !== undefined && !fns.has(node.name.text)) {
      fns.set(node.name.text, node)
    } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer !== undefined) {
      const init = unwrap(node.initializer)
      if ((ts.isArrowFunction(init) || ts.isFunctionExpression(init)) && !fns.has(node.name.text)) fns.set(node.name.text, init)
    }
  })
  return fns
}

interface FileFacts {
  sf: ts.SourceFile
  imports: Map<string, string>
  functions: Map<string, FunctionNode>
  loggers: Set<string>
  metricsVars: Set<string>
}

function resolveFunction (facts: FileFacts, expr: ts.Expression | undefined): FunctionNode | undefined {
  if (expr === undefined) return undefined
  const e = unwrap(expr)
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e
  if (ts.isIdentifier(e)) return facts.functions.get(e.text)
  return undefined
}

function isLoggerInit (facts: FileFacts, init: ts.Expression): boolean {
  const e = unwrap(init)
  if (ts.isCallExpression(e)) {
    const name = calleeName(e)
    const callee = unwrap(e.expression)
    if (name !== undefined && LOGGER_FACTORIES.has(name) && ts.isIdentifier(callee) && fromPackage(facts.imports.get(name), O11Y_PACKAGES.logging)) return true
    if (name === 'child' && ts.isPropertyAccessExpression(callee)) return isLoggerExpr(facts, callee.expression)
    return false
  }
  return isLoggerExpr(facts, e)
}

/** `request.log`, `fastify.log`, a logger variable, `getLogger('x')`, `logger.child({})`. */
function isLoggerExpr (facts: FileFacts, expr: ts.Expression): boolean {
  const e = unwrap(expr)
  if (ts.isIdentifier(e)) return facts.loggers.has(e.text)
  if (ts.isPropertyAccessExpression(e)) return e.name.text === 'log'
  if (ts.isCallExpression(e)) return isLoggerInit(facts, e)
  return false
}

function collectFacts (sf: ts.SourceFile): FileFacts {
  const facts: FileFacts = { sf, imports: collectImports(sf), functions: collectFunctions(sf), loggers: new Set(), metricsVars: new Set() }
  // Two passes so that `const log = base.child({})` after `const base = getLogger()` resolves.
  for (let pass = 0; pass < 2; pass++) {
    walk(sf, (node) => {
      if (ts.isVariableDeclaration(node) && node.initializer !== undefined) {
        if (ts.isIdentifier(node.name)) {
          if (isLoggerInit(facts, node.initializer)) facts.loggers.add(node.name.text)
          if (isMetricInit(node.initializer)) facts.metricsVars.add(node.name.text)
        } else if (ts.isObjectBindingPattern(node.name)) {
          addDestructuredLog(facts, node.name) // const { log } = request
        }
      } else if (ts.isParameter(node) && ts.isObjectBindingPattern(node.name)) {
        addDestructuredLog(facts, node.name) // async ({ log, params }) => ...
      }
    })
  }
  return facts
}

/** `{ log }` or `{ log: logger }` taken from a request, reply or Fastify instance is that object's logger. */
function addDestructuredLog (facts: FileFacts, pattern: ts.ObjectBindingPattern): void {
  for (const el of pattern.elements) {
    const key = el.propertyName !== undefined ? propName(el.propertyName) : (ts.isIdentifier(el.name) ? el.name.text : undefined)
    if (key === 'log' && ts.isIdentifier(el.name)) facts.loggers.add(el.name.text)
  }
}

function isMetricInit (init: ts.Expression): boolean {
  const e = unwrap(init)
  if (ts.isNewExpression(e)) {
    const callee = unwrap(e.expression)
    const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined
    return name !== undefined && PROM_CLASSES.has(name)
  }
  if (ts.isCallExpression(e)) {
    const chain = memberChain(e.expression)
    const name = chain[chain.length - 1]
    return name !== undefined && METRIC_FACTORIES.has(name) && chain.includes('metrics')
  }
  return false
}

/** Which instrumentation category a call belongs to, if any. */
function categoryOfCall (facts: FileFacts, call: ts.CallExpression): Category | undefined {
  const name = calleeName(call)
  if (name === undefined) return undefined
  const callee = unwrap(call.expression)
  const receiver = ts.isPropertyAccessExpression(callee) ? callee.expression : undefined
  if (TRACING_CALLS.has(name)) return 'tracing'
  if (receiver !== undefined && SPAN_METHODS.has(name)) {
    const r = unwrap(receiver)
    if (ts.isIdentifier(r) && /span/i.test(r.text)) return 'tracing'
    if (ts.isCallExpression(r) && calleeName(r) === 'getActiveSpan') return 'tracing'
  }
  if (receiver !== undefined && LOG_LEVELS.has(name) && isLoggerExpr(facts, receiver)) return 'logging'
  if (receiver !== undefined && METRIC_METHODS.has(name)) return 'metrics'
  if (name === 'track') return 'metrics'
  if (receiver !== undefined && name === 'set') {
    const r = unwrap(receiver)
    if (ts.isIdentifier(r) && facts.metricsVars.has(r.text)) return 'metrics'
  }
  if (receiver !== undefined) {
    const chain = memberChain(callee)
    const idx = chain.indexOf('metrics')
    if (idx !== -1 && idx < chain.length - 1) return 'metrics'
  }
  return undefined
}

/** Same-file functions a body calls, followed transitively, so a handler that delegates to an instrumented helper counts. */
function reachableFunctions (facts: FileFacts, root: FunctionNode): FunctionNode[] {
  const seen = new Set<FunctionNode>([root])
  const queue: FunctionNode[] = [root]
  for (let i = 0; i < queue.length; i++) {
    const fn = queue[i] as FunctionNode
    if (fn.body === undefined) continue
    walk(fn.body, (node) => {
      if (ts.isCallExpression(node)) {
        const callee = unwrap(node.expression)
        if (ts.isIdentifier(callee)) {
          const target = facts.functions.get(callee.text)
          if (target !== undefined && !seen.has(target)) { seen.add(target); queue.push(target) }
        }
      }
    })
  }
  return queue
}

function categoriesIn (facts: FileFacts, fn: FunctionNode): Set<Category> {
  const found = new Set<Category>()
  for (const f of reachableFunctions(facts, fn)) {
    if (f.body === undefined) continue
    walk(f.body, (node) => {
      if (ts.isCallExpression(node)) {
        const cat = categoryOfCall(facts, node)
        if (cat !== undefined) found.add(cat)
      }
    })
  }
  return found
}

function replyParamName (fn: FunctionNode): string | undefined {
  const p = fn.parameters[1]
  return p !== undefined && ts.isIdentifier(p.name) ? p.name.text : undefined
}

/** A handler "does real work" when it awaits or calls something other than the reply API and pure globals. */
function doesRealWork (fn: FunctionNode): boolean {
  if (fn.body === undefined) return false
  const reply = replyParamName(fn)
  let work = false
  walk(fn.body, (node) => {
    if (work) return
    if (ts.isAwaitExpression(node) || ts.isForOfStatement(node) && node.awaitModifier !== undefined) { work = true; return }
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const root = rootIdentifier(node.expression)
      const name = ts.isCallExpression(node) ? calleeName(node) : undefined
      if (root !== undefined && PURE_GLOBALS.has(root)) return
      if (root !== undefined && (root === reply || root === 'reply') && name !== undefined && REPLY_METHODS.has(name)) return
      if (ts.isCallExpression(node) && isReplyChain(node, reply)) return
      work = true
    }
  })
  return work
}

function isReplyChain (call: ts.CallExpression, reply: string | undefined): boolean {
  const chain = memberChain(call.expression)
  const root = chain[0]
  if (root !== reply && root !== 'reply') return false
  return chain.slice(1).every((n) => REPLY_METHODS.has(n.replace(/\(\)$/, '')))
}

function literalText (expr: ts.Expression | undefined): string | undefined {
  if (expr === undefined) return undefined
  const e = unwrap(expr)
  if (ts.isStringLiteralLike(e)) return e.text
  return undefined
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

/** A path held in a same-file constant: `const PATH = '/x'` or `const ROUTES = { order: '/x' }`. */
function constString (facts: FileFacts, expr: ts.Expression): string | undefined {
  const e = unwrap(expr)
  if (ts.isIdentifier(e)) {
    return literalText(localInitializer(facts, e))
  }
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) {
    const init = localInitializer(facts, e.expression)
    const obj = init !== undefined ? unwrap(init) : undefined
    if (obj !== undefined && ts.isObjectLiteralExpression(obj)) return literalText(objectPropValue(obj, e.name.text))
  }
  return undefined
}

function objectProp (obj: ts.ObjectLiteralExpression, key: string): ts.ObjectLiteralElementLike | undefined {
  return obj.properties.find((p) => p.name !== undefined && propName(p.name) === key)
}

function objectPropValue (obj: ts.ObjectLiteralExpression, key: string): ts.Expression | undefined {
  const p = objectProp(obj, key)
  if (p === undefined) return undefined
  if (ts.isPropertyAssignment(p)) return p.initializer
  if (ts.isShorthandPropertyAssignment(p)) return p.name
  return undefined
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

function findRoutes (facts: FileFacts): Route[] {
  const { sf } = facts
  const routes: Route[] = []
  walk(sf, (node) => {
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
function findHookFunctions (facts: FileFacts): Set<ts.Node> {
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
function findPluginFunctions (facts: FileFacts): Set<ts.Node> {
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

function isInside (node: ts.Node, containers: Set<ts.Node>): boolean {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) if (containers.has(n)) return true
  return false
}

/** Where a value comes from, if unbounded: `request params`, `a URL`, `an id-like field "orderId"`. */
function unboundedSource (facts: FileFacts, expr: ts.Expression, depth = 0): string | undefined {
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
      if (init !== undefined) return unboundedSource(facts, init, depth + 1)
    }
    return undefined
  }
  let found: string | undefined
  ts.forEachChild(e, (child) => {
    if (found === undefined && ts.isExpression(child)) found = unboundedSource(facts, child, depth + 1)
  })
  return found
}

/** The expression a local name was declared from (`const { id } = request.params` -> `request.params`). */
function localInitializer (facts: FileFacts, id: ts.Identifier): ts.Expression | undefined {
  let result: ts.Expression | undefined
  walk(facts.sf, (node) => {
    if (result !== undefined || !ts.isVariableDeclaration(node) || node.initializer === undefined) return
    if (ts.isIdentifier(node.name) && node.name.text === id.text && node.name !== id) result = node.initializer
    else if (ts.isObjectBindingPattern(node.name) || ts.isArrayBindingPattern(node.name)) {
      for (const el of node.name.elements) {
        if (ts.isBindingElement(el) && ts.isIdentifier(el.name) && el.name.text === id.text) result = node.initializer
      }
    }
  })
  return result
}

interface LabelUse { key: string | undefined, value: ts.Expression, node: ts.Node }

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

interface Directive { line: number, rules: string[], reason: string, node: ts.Node, pos: number, end: number, text: string }

/** Every comment of the file with the line it applies to (its own line when code precedes it, else the next token's line). */
function collectComments (sf: ts.SourceFile): { pos: number, end: number, text: string, targetLine: number }[] {
  const seen = new Map<number, { pos: number, end: number, text: string, targetLine: number }>()
  const text = sf.getFullText()
  const visit = (node: ts.Node): void => {
    const children = node.getChildren(sf)
    if (children.length === 0 || node.kind === ts.SyntaxKind.EndOfFileToken) {
      const start = node.getStart(sf)
      for (const r of ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []) {
        if (!seen.has(r.pos)) seen.set(r.pos, { pos: r.pos, end: r.end, text: text.slice(r.pos, r.end), targetLine: lineOf(sf, start) })
      }
      for (const r of ts.getTrailingCommentRanges(text, node.getEnd()) ?? []) {
        if (!seen.has(r.pos)) seen.set(r.pos, { pos: r.pos, end: r.end, text: text.slice(r.pos, r.end), targetLine: lineOf(sf, r.pos) })
      }
      return
    }
    for (const c of children) visit(c)
  }
  visit(sf)
  return [...seen.values()].sort((a, b) => a.pos - b.pos)
}

function commentBody (text: string): string {
  if (text.startsWith('//')) return text.slice(2).trim()
  return text.replace(/^\/\*+/, '').replace(/\*+\/$/, '').split('\n').map((l) => l.replace(/^\s*\*?\s?/, '')).join(' ').trim()
}

const DIRECTIVE_RE = new RegExp(`^${SUPPRESSION_DIRECTIVE}(?:\\s+([^:]*?))?\\s*(?::(.*))?$`, 's')

function parseDirectives (sf: ts.SourceFile, comments: ReturnType<typeof collectComments>): Directive[] {
  const out: Directive[] = []
  for (const c of comments) {
    const body = commentBody(c.text)
    if (!body.startsWith(SUPPRESSION_DIRECTIVE)) continue
    const m = DIRECTIVE_RE.exec(body)
    if (m === null) continue
    const rules = (m[1] ?? '').split(/[\s,]+/).filter((r) => r.length > 0)
    out.push({ line: c.targetLine, rules, reason: (m[2] ?? '').trim(), node: sf, pos: c.pos, end: c.end, text: body })
  }
  return out
}

function fingerprintOf (ruleId: string, file: string, anchor: string, occurrence: number): string {
  return createHash('sha256').update(`${ruleId}\u0000${file}\u0000${anchor}\u0000${occurrence}`).digest('hex').slice(0, 32)
}

function requiredSet (req: RequiredCategories): { mode: 'any' | 'all', cats: Category[] } {
  if (req === 'any') return { mode: 'any', cats: [...CATEGORIES] }
  if (req === 'all') return { mode: 'all', cats: [...CATEGORIES] }
  return { mode: 'all', cats: [...req] }
}

function describeMissing (present: Set<Category>, req: RequiredCategories): string | undefined {
  const { mode, cats } = requiredSet(req)
  if (mode === 'any') return present.size > 0 ? undefined : 'has no tracing, metrics or logging'
  const missing = cats.filter((c) => !present.has(c))
  return missing.length === 0 ? undefined : `is missing ${missing.join(', ')}`
}

/** What a file registers, for `plugins-registered` (the caller merges this over a project). */
export function scanRegistrations (file: string, text: string): Registrations {
  const sf = parse(file, text)
  const facts = collectFacts(sf)
  const found: Registrations = { metrics: false, tracing: false, logging: false }
  const pkgOf = (expr: ts.Expression | undefined): string | undefined => {
    if (expr === undefined) return undefined
    const inline = requireSpecifier(expr)
    if (inline !== undefined) return inline
    const root = rootIdentifier(expr)
    return root !== undefined ? facts.imports.get(root) : undefined
  }
  walk(sf, (node) => {
    if (!ts.isCallExpression(node)) return
    const name = calleeName(node)
    if (name === 'register') {
      const spec = pkgOf(node.arguments[0])
      if (fromPackage(spec, O11Y_PACKAGES.metrics)) found.metrics = true
      if (fromPackage(spec, O11Y_PACKAGES.tracing)) found.tracing = true
      if (fromPackage(spec, O11Y_PACKAGES.logging)) found.logging = true
    }
    const callee = unwrap(node.expression)
    if (ts.isIdentifier(callee) && (callee.text === 'fastifyLoggerOptions' || callee.text === 'createLogger') &&
      fromPackage(facts.imports.get(callee.text), O11Y_PACKAGES.logging)) found.logging = true
  })
  return found
}

function createsFastify (facts: FileFacts): ts.CallExpression | undefined {
  let found: ts.CallExpression | undefined
  walk(facts.sf, (node) => {
    if (found !== undefined || !ts.isCallExpression(node)) return
    const callee = unwrap(node.expression)
    if (ts.isIdentifier(callee) && facts.imports.get(callee.text) === 'fastify') found = node
    else if (requireSpecifier(callee) === 'fastify') found = node
    else if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'fastify' && ts.isIdentifier(callee.expression) &&
      facts.imports.get(callee.expression.text) === 'fastify') found = node
  })
  return found
}

function hasRegisterCall (facts: FileFacts): boolean {
  let found = false
  walk(facts.sf, (node) => {
    if (!found && ts.isCallExpression(node) && calleeName(node) === 'register' && ts.isPropertyAccessExpression(unwrap(node.expression))) found = true
  })
  return found
}

function isLoggingCall (facts: FileFacts, call: ts.CallExpression): boolean {
  if (categoryOfCall(facts, call) === 'logging') return true
  const chain = memberChain(call.expression).join('.')
  return chain === 'console.error' || chain === 'console.warn' || chain === 'process.emitWarning' || chain === 'process.stderr.write'
}

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

function commentsNear (sf: ts.SourceFile, node: ts.Node): string[] {
  const text = sf.getFullText()
  const out: string[] = []
  for (const r of ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []) out.push(text.slice(r.pos, r.end))
  for (const r of ts.getTrailingCommentRanges(text, node.getEnd()) ?? []) out.push(text.slice(r.pos, r.end))
  // A comment after the separating comma: `metrics: false, // why`
  const after = text.slice(node.getEnd()).match(/^\s*,/)
  if (after !== null) {
    for (const r of ts.getTrailingCommentRanges(text, node.getEnd() + after[0].length) ?? []) out.push(text.slice(r.pos, r.end))
  }
  return out
}

function isJustification (comment: string): boolean {
  const body = commentBody(comment)
  if (body.startsWith(SUPPRESSION_DIRECTIVE)) return false
  return (body.match(/[A-Za-z]{2,}/g) ?? []).length >= 2
}

export function analyzeFile (input: AnalyzeInput): FileAnalysis {
  const sf = parse(input.file, input.text)
  const facts = collectFacts(sf)
  const raw: RawFinding[] = []
  const handlers: HandlerCoverage[] = []
  const on = (rule: RuleId): boolean => input.rules.severity(rule) !== 'off'

  const routes = findRoutes(facts)
  const handlerNodes = new Set<ts.Node>()
  for (const r of routes) if (r.handler !== undefined) handlerNodes.add(r.handler)

  // route-instrumented
  for (const route of routes) {
    const fn = route.handler
    if (fn === undefined || !doesRealWork(fn)) continue
    const span = [linesOf(sf, route.call), linesOf(sf, fn)]
    if (input.changed !== undefined && !span.some(([a, b]) => input.changed?.(a, b) === true)) continue
    const present = categoriesIn(facts, fn)
    handlers.push({ file: input.file, line: lineOf(sf, route.call.getStart(sf)), route: route.label, categories: CATEGORIES.filter((c) => present.has(c)) })
    if (!on(RULE_IDS.routeInstrumented)) continue
    const missing = describeMissing(present, input.rules.requiredCategories)
    if (missing !== undefined) {
      raw.push({ ruleId: RULE_IDS.routeInstrumented, node: route.call, span, anchor: route.label, message: `route handler ${route.label} ${missing}` })
    }
  }

  // opt-out-justified
  if (on(RULE_IDS.optOutJustified)) {
    for (const route of routes) {
      if (route.options === undefined) continue
      const configProp = objectProp(route.options, 'config')
      if (configProp === undefined || !ts.isPropertyAssignment(configProp)) continue
      const config = unwrap(configProp.initializer)
      if (!ts.isObjectLiteralExpression(config)) continue
      for (const p of config.properties) {
        if (!ts.isPropertyAssignment(p)) continue
        const key = propName(p.name)
        if (key === undefined || !OPT_OUT_KEYS.has(key) || unwrap(p.initializer).kind !== ts.SyntaxKind.FalseKeyword) continue
        const comments = [...commentsNear(sf, p), ...commentsNear(sf, configProp)]
        if (comments.some(isJustification)) continue
        raw.push({ ruleId: RULE_IDS.optOutJustified, node: p, span: [linesOf(sf, p)], anchor: `${route.label} ${key}`, message: `route ${route.label} turns ${key} off without a comment saying why` })
      }
    }
  }

  // no-console
  if (on(RULE_IDS.noConsole)) {
    const containers = new Set<ts.Node>([...handlerNodes, ...findPluginFunctions(facts)])
    const hooks = findHookFunctions(facts)
    walk(sf, (node) => {
      if (!ts.isCallExpression(node)) return
      const chain = memberChain(node.expression)
      if (chain.length !== 2 || chain[0] !== 'console') return
      const where = isInside(node, containers) ? 'a route handler or plugin' : isInside(node, hooks) ? 'a Fastify hook or error handler' : undefined
      if (where === undefined) return
      raw.push({ ruleId: RULE_IDS.noConsole, node, span: [linesOf(sf, node)], anchor: normalizedText(sf, node), message: `console.${chain[1] ?? ''}() inside ${where}` })
    })
  }

  // label-cardinality
  if (on(RULE_IDS.labelCardinality)) {
    walk(sf, (node) => {
      if (!ts.isCallExpression(node)) return
      for (const use of labelsOfCall(facts, node)) {
        const metric = normalizedText(sf, node.expression)
        const label = use.key !== undefined ? `label "${use.key}"` : 'a label'
        const idKey = use.key !== undefined && ID_LIKE.test(use.key)
        const source = idKey ? undefined : unboundedSource(facts, use.value)
        if (!idKey && source === undefined) continue
        const message = idKey ? `${label} of ${metric}() is an id-like label` : `${label} of ${metric}() takes its value from ${source ?? ''}`
        raw.push({ ruleId: RULE_IDS.labelCardinality, node: use.node, span: [linesOf(sf, use.node)], anchor: `${metric} ${normalizedText(sf, use.node)}`, message })
      }
    })
  }

  // error-observed
  if (on(RULE_IDS.errorObserved)) {
    walk(sf, (node) => {
      if (!ts.isCatchClause(node) || catchIsObserved(facts, node)) return
      const start = node.getStart(sf)
      const fn = enclosingFunctionName(node)
      raw.push({ ruleId: RULE_IDS.errorObserved, node, span: [[lineOf(sf, start), lineOf(sf, start)]], anchor: `${fn} ${normalizedText(sf, node)}`, message: `catch block${fn !== '' ? ` in ${fn}` : ''} neither rethrows, logs nor records the error on a span` })
    })
  }

  // plugins-registered
  if (on(RULE_IDS.pluginsRegistered) && input.projectRegistrations !== undefined) {
    const create = createsFastify(facts)
    if (create !== undefined && (routes.length > 0 || hasRegisterCall(facts))) {
      const reg = input.projectRegistrations
      const missing = [
        reg.metrics ? undefined : O11Y_PACKAGES.metrics,
        reg.tracing ? undefined : O11Y_PACKAGES.tracing,
        reg.logging ? undefined : `the ${O11Y_PACKAGES.logging} logger`
      ].filter((m): m is string => m !== undefined)
      if (missing.length > 0) {
        const project = input.projectName !== undefined ? ` (${input.projectName})` : ''
        raw.push({ ruleId: RULE_IDS.pluginsRegistered, node: create, span: [[1, Number.MAX_SAFE_INTEGER]], anchor: 'fastify-instance', message: `this file creates a Fastify app with routes but its project${project} never registers ${missing.join(', ')}` })
      }
    }
  }

  // Suppressions, then diff filtering (plugins-registered counts whenever the file changed).
  const directives = parseDirectives(sf, collectComments(sf))
  const findings: Finding[] = []
  const occurrences = new Map<string, number>()
  let suppressed = 0
  const known = new Set<string>(RULES_BY_ID.keys())
  // A directive applies to the line it targets; for a catch block also as the block's first line.
  const validFor = (line: number, rule: RuleId): boolean =>
    directives.some((d) => (d.line === line || (rule === RULE_IDS.errorObserved && lineOf(sf, d.pos) === line + 1)) &&
      d.reason.length > 0 && d.rules.includes(rule) && d.rules.every((r) => known.has(r)))

  const inChange = (span: [number, number][]): boolean =>
    input.changed === undefined || span.some(([a, b]) => input.changed?.(a, b) === true)

  const push = (ruleId: RuleId, start: number, end: number, message: string, anchor: string): void => {
    const severity = input.rules.severity(ruleId)
    /* c8 ignore next */
    if (severity === 'off') return
    const s = sf.getLineAndCharacterOfPosition(start)
    const e = sf.getLineAndCharacterOfPosition(end)
    const key = `${ruleId}\u0000${anchor}`
    const n = occurrences.get(key) ?? 0
    occurrences.set(key, n + 1)
    findings.push({
      ruleId,
      severity: severity as Severity,
      file: input.file,
      line: s.line + 1,
      column: s.character + 1,
      endLine: e.line + 1,
      endColumn: e.character + 1,
      message,
      fix: ruleMeta(ruleId).fix,
      fingerprint: fingerprintOf(ruleId, input.file, anchor, n)
    })
  }

  raw.sort((a, b) => a.node.getStart(sf) - b.node.getStart(sf))
  for (const f of raw) {
    if (!inChange(f.span)) continue
    const line = lineOf(sf, f.node.getStart(sf))
    if (validFor(line, f.ruleId)) { suppressed++; continue }
    push(f.ruleId, f.node.getStart(sf), f.node.getEnd(), f.message, f.anchor)
  }

  for (const d of directives) {
    const startLine = lineOf(sf, d.pos)
    if (!inChange([[startLine, lineOf(sf, d.end)]])) continue
    const unknown = d.rules.filter((r) => !known.has(r))
    let problem: string | undefined
    if (d.rules.length === 0) problem = 'names no rule'
    else if (unknown.length > 0) problem = `names unknown rule ${unknown.map((u) => `"${u}"`).join(', ')}`
    else if (d.reason.length === 0) problem = 'gives no reason'
    if (problem === undefined) continue
    push(RULE_IDS.suppressionReason, d.pos, d.end, `${SUPPRESSION_DIRECTIVE} comment ${problem}; it suppresses nothing`, d.text)
  }

  findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0))
  return { findings, handlers, suppressed }
}

function enclosingFunctionName (node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name !== undefined) return n.name.getText()
    if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isVariableDeclaration(n.parent) && ts.isIdentifier(n.parent.name)) return n.parent.name.text
  }
  return ''
}
