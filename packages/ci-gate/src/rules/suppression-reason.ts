// suppression-reason: an o11y-gate-ignore directive names known rules and gives a reason; a
// broken one suppresses nothing, and says so.

import { SUPPRESSION_DIRECTIVE } from '../constants'
import type { Rule } from '../rule-types'
import { lineOf } from '../view/ast'

export const rule: Rule = {
  meta: {
    id: 'suppression-reason',
    defaultSeverity: 'error',
    description: 'An o11y-gate-ignore comment without a known rule id or without a reason.',
    fix: 'Write it as `// o11y-gate-ignore <rule-id>: <why this is fine>`.',
    docs: {
      anchor: 'suppression-reason',
      finds: 'An `o11y-gate-ignore` comment with no rule, an unknown rule or no reason. It then suppresses nothing.',
      fails: '`// o11y-gate-ignore no-console`',
      passes: '`// o11y-gate-ignore no-console: a CLI demo that prints on purpose`'
    }
  },
  check (view, report) {
    for (const d of view.directives) {
      const unknown = d.rules.filter((r) => !view.knownRules.has(r))
      let problem: string | undefined
      if (d.rules.length === 0) problem = 'names no rule'
      else if (unknown.length > 0) problem = `names unknown rule ${unknown.map((u) => `"${u}"`).join(', ')}`
      else if (d.reason.length === 0) problem = 'gives no reason'
      if (problem === undefined) continue
      report({ pos: d.pos, end: d.end, span: [[lineOf(view.sf, d.pos), lineOf(view.sf, d.end)]], anchor: d.text, unsuppressible: true, message: `${SUPPRESSION_DIRECTIVE} comment ${problem}; it suppresses nothing` })
    }
  }
}
