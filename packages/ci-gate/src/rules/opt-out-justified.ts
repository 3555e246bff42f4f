// opt-out-justified: turning a route's telemetry off needs a comment saying why, next to the
// opt-out or on the lines directly above the route registration.

import ts from 'typescript'
import type { Rule } from '../rule-types'
import { lineOf, linesOf } from '../view/ast'
import { optOutsOf } from '../view/routes'
import { isJustification } from '../view/suppressions'

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

/** The statement a route registration is part of (`app.get(...)`, `await app.register(...)`). */
function statementOf (node: ts.Node): ts.Node {
  let n = node
  while (n.parent !== undefined && !ts.isSourceFile(n.parent) && !ts.isBlock(n.parent) && !ts.isModuleBlock(n.parent) && !ts.isCaseOrDefaultClause(n.parent)) n = n.parent
  return n
}

/** Comments on the lines directly above a statement: no blank line or code between them and it. */
function commentsAbove (sf: ts.SourceFile, stmt: ts.Node): string[] {
  const text = sf.getFullText()
  const ranges = ts.getLeadingCommentRanges(text, stmt.getFullStart()) ?? []
  const out: string[] = []
  let expected = lineOf(sf, stmt.getStart(sf)) - 1
  for (let i = ranges.length - 1; i >= 0; i--) {
    const r = ranges[i] as ts.CommentRange
    if (lineOf(sf, r.end) !== expected) break
    out.push(text.slice(r.pos, r.end))
    expected = lineOf(sf, r.pos) - 1
  }
  return out
}

export const rule: Rule = {
  meta: {
    id: 'opt-out-justified',
    defaultSeverity: 'error',
    description: 'A route that opts out of telemetry with config: { metrics: false }, { tracing: false } or { logging: false } must say why in a comment.',
    fix: 'Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. `metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics`.',
    docs: {
      anchor: 'opt-out-justified',
      finds: '`config: { metrics: false }`, `{ tracing: false }` or `{ logging: false }` on a route without a comment saying why: before or after the opt-out, after its comma, or on the lines directly above the route registration (no blank line between). An `o11y-gate-ignore` comment is not a reason.',
      fails: '`{ config: { metrics: false } }`',
      passes: '`{ config: { metrics: false, // scraped every 15 s, would drown RED metrics`'
    }
  },
  check (view, report) {
    for (const route of view.routes) {
      for (const o of optOutsOf(route)) {
        const comments = [...commentsNear(view.sf, o.prop), ...commentsNear(view.sf, o.configProp), ...commentsAbove(view.sf, statementOf(route.call))]
        if (comments.some(isJustification)) continue
        report({ node: o.prop, span: [linesOf(view.sf, o.prop)], anchor: `${route.label} ${o.key}`, message: `route ${route.label} turns ${o.key} off without a comment saying why` })
      }
    }
  }
}
