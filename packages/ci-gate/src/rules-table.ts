// The README's rule table, rendered from the rule modules' metadata. test/registry.test.ts fails
// when README.md differs; `pnpm run readme` rewrites the block between the markers.

import type { RuleMeta } from './rule-types'

export const TABLE_START = '<!-- rules:start (generated from src/rules by `pnpm run readme`) -->'
export const TABLE_END = '<!-- rules:end -->'

export function renderRuleTable (rules: readonly RuleMeta[]): string {
  const rows = rules.map((r) =>
    `| <a id="${r.docs.anchor}"></a>\`${r.id}\` | ${r.defaultSeverity} | ${r.docs.finds} | ${r.docs.fails} | ${r.docs.passes} |`)
  return [TABLE_START, '| Rule | Default | Finds | Example that fails | Passes |', '|---|---|---|---|---|', ...rows, TABLE_END].join('\n')
}

/** `readme` with its rule table replaced; throws when the markers are missing. */
export function withRuleTable (readme: string, rules: readonly RuleMeta[]): string {
  const start = readme.indexOf(TABLE_START)
  const end = readme.indexOf(TABLE_END)
  if (start === -1 || end < start) throw new Error('README.md has no rules:start / rules:end markers')
  return readme.slice(0, start) + renderRuleTable(rules) + readme.slice(end + TABLE_END.length)
}
