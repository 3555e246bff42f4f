import t from 'tap'
import { dirname, resolve } from 'node:path'
import { requireTool } from '@o11y/test-utils'
import { alertRules, readYaml, ruleFiles, ruleTestFiles, run } from './lib/repo'

interface ExpAlert { exp_labels?: Record<string, string>, exp_annotations?: Record<string, string> }
interface RuleTestFile {
  rule_files: string[]
  tests: Array<{ name?: string, alert_rule_test?: Array<{ alertname: string, eval_time: string, exp_alerts?: ExpAlert[] | null }> }>
}

t.test('promtool test rules passes for every rule test file', requireTool('promtool'), async (t) => {
  const files = ruleTestFiles()
  t.ok(files.length >= 1, 'rule tests exist')
  for (const file of files) {
    const res = run('promtool', ['test', 'rules', file], undefined, 280_000)
    t.equal(res.status, 0, `${file}\n${res.stdout}${res.stderr}`)
    t.match(res.stdout, /SUCCESS/, file)
  }
})

t.test('promtool test rules fails when an expected annotation is wrong (the cases can fail)', requireTool('promtool'), async (t) => {
  const res = run('promtool', ['test', 'rules', resolve(__dirname, 'fixtures', 'wrong-annotation.test.yml')])
  t.not(res.status, 0)
  t.match(res.stdout + res.stderr, /exp:.*summary/s)
})

t.test('every alert has a firing case with labels and annotations checked, and a quiet case', async (t) => {
  const cases = new Map<string, { firing: ExpAlert[], quiet: number }>()
  const testedRuleFiles = new Set<string>()
  for (const file of ruleTestFiles()) {
    const doc = readYaml<RuleTestFile>(file)
    for (const r of doc.rule_files) testedRuleFiles.add(resolve(dirname(file), r))
    for (const test of doc.tests) {
      for (const c of test.alert_rule_test ?? []) {
        const entry = cases.get(c.alertname) ?? { firing: [], quiet: 0 }
        if ((c.exp_alerts ?? []).length === 0) entry.quiet++
        else entry.firing.push(...(c.exp_alerts ?? []))
        cases.set(c.alertname, entry)
      }
    }
  }
  for (const file of ruleFiles()) t.ok(testedRuleFiles.has(file), `${file} is loaded by a rule test`)
  const alerts = alertRules()
  t.ok(alerts.length >= 6)
  for (const name of new Set(alerts.map((a) => a.alert as string))) {
    const entry = cases.get(name)
    t.ok(entry && entry.firing.length > 0, `${name} has a case where it fires`)
    t.ok(entry && entry.quiet > 0, `${name} has a case where it stays quiet`)
    for (const exp of entry?.firing ?? []) {
      t.ok(exp.exp_labels?.severity, `${name}: a firing case checks the severity label`)
      for (const key of ['summary', 'description', 'runbook_url']) {
        t.ok(exp.exp_annotations?.[key], `${name}: a firing case checks the ${key} annotation`)
      }
    }
  }
})
