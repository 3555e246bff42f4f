import type { LRParser } from '@lezer/lr'

// The package is ESM with a CommonJS build (`require` export); TypeScript sees only its ESM types.
const { parser } = require('@grafana/lezer-logql') as { parser: LRParser }

/**
 * Syntax problems of a LogQL expression, parsed with Grafana's own LogQL grammar (the one its query
 * editor uses): one entry per error node, with the text around it. Empty when it parses. There is
 * no Loki binary here to run the queries, so this is how the dashboards' and runbooks' LogQL is
 * checked.
 */
export function logqlProblems (expr: string): string[] {
  const problems: string[] = []
  parser.parse(expr).iterate({
    enter (node) {
      if (node.type.isError) problems.push(`syntax error at ${node.from}: ...${expr.slice(Math.max(0, node.from - 20), node.from + 20)}...`)
    }
  })
  return problems
}
