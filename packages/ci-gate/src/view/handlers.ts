// What a route handler does: whether it does real work, and which instrumentation categories its
// body (and the same-file functions it calls) contains.

import ts from 'typescript'
import type { Category } from '../constants'
import { calleeName, memberChain, rootIdentifier, unwrap, walk, type FunctionNode } from './ast'
import { categoryOfCall, type FileFacts } from './facts'

export const REPLY_METHODS = new Set(['send', 'code', 'status', 'header', 'headers', 'type', 'redirect', 'serialize',
  'hijack', 'removeHeader', 'getHeader', 'getHeaders', 'hasHeader', 'callNotFound', 'view', 'then'])
/** Calls on these globals compute values; they are not the "real work" a handler must instrument. */
export const PURE_GLOBALS = new Set(['JSON', 'Math', 'Object', 'Array', 'String', 'Number', 'Boolean', 'Date', 'Symbol',
  'Reflect', 'process', 'parseInt', 'parseFloat', 'isNaN', 'encodeURIComponent', 'decodeURIComponent'])

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

export function categoriesIn (facts: FileFacts, fn: FunctionNode): Set<Category> {
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

function isReplyChain (call: ts.CallExpression, reply: string | undefined): boolean {
  const chain = memberChain(call.expression)
  const root = chain[0]
  if (root !== reply && root !== 'reply') return false
  return chain.slice(1).every((n) => REPLY_METHODS.has(n.replace(/\(\)$/, '')))
}

/** A handler "does real work" when it awaits or calls something other than the reply API and pure globals. */
export function doesRealWork (fn: FunctionNode): boolean {
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
