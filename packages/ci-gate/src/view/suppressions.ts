// Comments of a file and the `o11y-gate-ignore <rule-id>: <reason>` directives among them.

import ts from 'typescript'
import { SUPPRESSION_DIRECTIVE } from '../constants'
import { lineOf } from './ast'

export interface Comment { pos: number, end: number, text: string, /** The line it applies to. */ targetLine: number }

export interface Directive {
  /** The line it applies to: its own when code precedes it, else the next token's line. */
  line: number
  rules: string[]
  reason: string
  pos: number
  end: number
  text: string
}

/** Every comment of the file with the line it applies to (its own line when code precedes it, else the next token's line). */
export function collectComments (sf: ts.SourceFile): Comment[] {
  const seen = new Map<number, Comment>()
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

/** The words of a comment without its markers. */
export function commentBody (text: string): string {
  if (text.startsWith('//')) return text.slice(2).trim()
  return text.replace(/^\/\*+/, '').replace(/\*+\/$/, '').split('\n').map((l) => l.replace(/^\s*\*?\s?/, '')).join(' ').trim()
}

const DIRECTIVE_RE = new RegExp(`^${SUPPRESSION_DIRECTIVE}(?:\\s+([^:]*?))?\\s*(?::(.*))?$`, 's')

export function parseDirectives (comments: readonly Comment[]): Directive[] {
  const out: Directive[] = []
  for (const c of comments) {
    const body = commentBody(c.text)
    if (!body.startsWith(SUPPRESSION_DIRECTIVE)) continue
    const m = DIRECTIVE_RE.exec(body)
    /* c8 ignore next */
    if (m === null) continue
    const rules = (m[1] ?? '').split(/[\s,]+/).filter((r) => r.length > 0)
    out.push({ line: c.targetLine, rules, reason: (m[2] ?? '').trim(), pos: c.pos, end: c.end, text: body })
  }
  return out
}

/** A comment that explains something: two words or more, and not a suppression directive. */
export function isJustification (comment: string): boolean {
  const body = commentBody(comment)
  if (body.startsWith(SUPPRESSION_DIRECTIVE)) return false
  return (body.match(/[A-Za-z]{2,}/g) ?? []).length >= 2
}
