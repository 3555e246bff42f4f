// Facts about one file that several rules need: what it imports, the functions it declares by
// name, which local names are loggers or metrics, and which category an instrumentation call is.

import ts from 'typescript'
import { O11Y_PACKAGES, type Category } from '../constants'
import {
  calleeName, fromPackage, literalText, memberChain, objectPropValue, propName, requireSpecifier, unwrap, walk,
  type FunctionNode
} from './ast'

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
const TRACING_CALLS = new Set(['withSpan', 'startActiveSpan', 'startSpan', 'addSpanEvent', 'addSpanAttributes', 'recordException'])
const SPAN_METHODS = new Set(['setAttribute', 'setAttributes', 'addEvent', 'setStatus', 'recordException', 'updateName'])
export const METRIC_METHODS = new Set(['inc', 'dec', 'observe', 'startTimer'])
const METRIC_FACTORIES = new Set(['counter', 'gauge', 'histogram', 'summary'])
const PROM_CLASSES = new Set(['Counter', 'Gauge', 'Histogram', 'Summary'])
const LOGGER_FACTORIES = new Set(['getLogger', 'createLogger'])

export interface FileFacts {
  sf: ts.SourceFile
  /** Local name -> module specifier, from `import` and `require`. */
  imports: Map<string, string>
  /** Functions declared by name: function declarations and `const f = () => {}`. */
  functions: Map<string, FunctionNode>
  loggers: Set<string>
  metricsVars: Set<string>
}

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

export function collectFacts (sf: ts.SourceFile): FileFacts {
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
export function categoryOfCall (facts: FileFacts, call: ts.CallExpression): Category | undefined {
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

/** A logging call, or a write to stderr (console.error/warn, process.emitWarning, process.stderr.write). */
export function isLoggingCall (facts: FileFacts, call: ts.CallExpression): boolean {
  if (categoryOfCall(facts, call) === 'logging') return true
  const chain = memberChain(call.expression).join('.')
  return chain === 'console.error' || chain === 'console.warn' || chain === 'process.emitWarning' || chain === 'process.stderr.write'
}

export function resolveFunction (facts: FileFacts, expr: ts.Expression | undefined): FunctionNode | undefined {
  if (expr === undefined) return undefined
  const e = unwrap(expr)
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e
  if (ts.isIdentifier(e)) return facts.functions.get(e.text)
  return undefined
}

/** The declaration a local name comes from (`const { id } = request.params` -> that declaration). */
export function localDeclaration (facts: FileFacts, id: ts.Identifier): ts.VariableDeclaration | undefined {
  let result: ts.VariableDeclaration | undefined
  walk(facts.sf, (node) => {
    if (result !== undefined || !ts.isVariableDeclaration(node)) return
    if (ts.isIdentifier(node.name) && node.name.text === id.text && node.name !== id) result = node
    else if (ts.isObjectBindingPattern(node.name) || ts.isArrayBindingPattern(node.name)) {
      for (const el of node.name.elements) {
        if (ts.isBindingElement(el) && ts.isIdentifier(el.name) && el.name.text === id.text) result = node
      }
    }
  })
  return result
}

/** The expression a local name was declared from (`const { id } = request.params` -> `request.params`). */
export function localInitializer (facts: FileFacts, id: ts.Identifier): ts.Expression | undefined {
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

/** A string held in a same-file constant: `const PATH = '/x'` or `const ROUTES = { order: '/x' }`. */
export function constString (facts: FileFacts, expr: ts.Expression): string | undefined {
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
