import t from 'tap'
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { CONFIG_SCHEMA } from '../src/config'
import { RULES, RULES_DIR, loadRules } from '../src/registry'
import { renderRuleTable, withRuleTable } from '../src/rules-table'
import type { GateResult } from '../src/types'
import { runCapture, tempDir } from './helpers'

const PKG = join(__dirname, '..')

t.test('the registry is exactly the modules of src/rules, sorted by id', async (t) => {
  const files = readdirSync(RULES_DIR).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort()
  t.same(RULES.map((r) => r.id), files)
  t.ok(files.length >= 7)
  for (const r of RULES) {
    t.equal(r.docs.anchor, r.id, `${r.id}: the docs anchor is the id`)
    t.ok(r.description.length > 20 && r.fix.length > 20, `${r.id}: description and fix`)
  }
})

t.test('the README rule table is the one rendered from the rule modules (pnpm run readme)', async (t) => {
  const readme = readFileSync(join(PKG, 'README.md'), 'utf8')
  t.ok(readme.includes(renderRuleTable(RULES)), 'README.md is out of date: run `pnpm run readme` in packages/ci-gate')
  t.equal(withRuleTable(readme, RULES), readme)
  t.throws(() => withRuleTable('# no markers\n', RULES), /markers/)
})

t.test('the config schema and the SARIF rule metadata come from the registry', async (t) => {
  t.same(Object.keys(CONFIG_SCHEMA.properties.rules.properties), RULES.map((r) => r.id))
  const dir = tempDir(t, { 'a.ts': 'export const a = 1\n' })
  const sarif = JSON.parse(runCapture(['--all', '--format', 'sarif'], dir).stdout)
  const rules = sarif.runs[0].tool.driver.rules as { id: string, helpUri: string, fullDescription: { text: string } }[]
  t.same(rules.map((r) => r.id), RULES.map((r) => r.id))
  for (const [i, r] of rules.entries()) {
    t.match(r.helpUri, new RegExp(`#${RULES[i]?.docs.anchor ?? ''}$`))
    t.equal(r.fullDescription.text, RULES[i]?.description)
  }
})

const NEW_RULE = `import ts from 'typescript'
import type { Rule } from '../rule-types'
import { linesOf, walk } from '../view/ast'

export const rule: Rule = {
  meta: {
    id: 'no-sync-fs',
    defaultSeverity: 'warning',
    description: 'A route handler that reads a file synchronously: it blocks every other request.',
    fix: 'Use the promise API of node:fs (await readFile(...)).',
    docs: { anchor: 'no-sync-fs', finds: '\`readFileSync\` in a handler', fails: '\`readFileSync(p)\`', passes: '\`await readFile(p)\`' }
  },
  check (view, report) {
    for (const fn of view.handlerFns) {
      walk(fn, (node) => {
        if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'readFileSync') {
          report({ node, span: [linesOf(view.sf, node)], anchor: 'readFileSync', message: 'readFileSync() inside a route handler' })
        }
      })
    }
  }
}
`

const FIXTURE = `import { readFileSync } from 'node:fs'
export default async function routes (app: any) {
  app.get('/config', async (request: any) => {
    request.log.info('config')
    return readFileSync('/etc/app.json', 'utf8')
  })
}
`

/** A copy of the package's sources with `files` added, and the CLI of that copy. */
function copyWith (t: Parameters<typeof tempDir>[0], files: Record<string, string>): (argv: string[], cwd: string) => GateResult {
  const dir = tempDir(t)
  cpSync(join(PKG, 'src'), join(dir, 'src'), { recursive: true })
  cpSync(join(PKG, 'package.json'), join(dir, 'package.json'))
  symlinkSync(join(PKG, 'node_modules'), join(dir, 'node_modules'), 'dir')
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true })
    writeFileSync(join(dir, rel), text)
  }
  const { run } = require(join(dir, 'src', 'run.ts')) as typeof import('../src/run')
  return (argv, cwd) => run(argv, { cwd })
}

t.test('adding a rule is one new module in src/rules (plus its fixture and test): nothing else changes', async (t) => {
  const run = copyWith(t, { 'src/rules/no-sync-fs.ts': NEW_RULE })
  const app = tempDir(t, { 'package.json': '{}', 'src/app.ts': FIXTURE })

  const json = JSON.parse(run(['--all', '--format', 'json'], app).stdout)
  t.same(json.findings.map((f: { ruleId: string, severity: string, line: number }) => `${f.ruleId}:${f.severity}@${f.line}`), ['no-sync-fs:warning@5'])
  t.equal(json.summary.byRule['no-sync-fs'], 1)

  const sarif = JSON.parse(run(['--all', '--format', 'sarif'], app).stdout)
  t.ok(sarif.runs[0].tool.driver.rules.some((r: { id: string }) => r.id === 'no-sync-fs'), 'SARIF lists the new rule')

  writeFileSync(join(app, '.o11y-gate.json'), JSON.stringify({ rules: { 'no-sync-fs': 'error' } }))
  t.equal(run(['--all'], app).exitCode, 1, 'the config schema knows the new id')
  writeFileSync(join(app, 'src', 'app.ts'), FIXTURE.replace("    return readFileSync", "    // o11y-gate-ignore no-sync-fs: read once at start-up in production\n    return readFileSync"))
  t.equal(run(['--all'], app).exitCode, 0, 'suppression directives know the new id')

  t.equal(runCapture(['--all'], app).exitCode, 2, 'the original package does not know that id (its config schema rejects it)')
})

t.test('a rule module whose id is not its file name, that exports no rule, or whose meta is incomplete stops the registry', async (t) => {
  const meta = (id: string, extra = ''): string =>
    `export const rule = { meta: { id: '${id}', defaultSeverity: 'error', description: 'd', fix: 'f', docs: { anchor: 'a', finds: '', fails: '', passes: '' }${extra} }, check () {} }\n`
  // one directory per case: require() caches a module by path
  t.same(loadRules(tempDir(t, { 'fine.ts': meta('fine') })).map((r) => r.meta.id), ['fine'])
  t.throws(() => loadRules(tempDir(t, { 'fine.ts': meta('fine'), 'wrong-id.ts': meta('something-else') })),
    /rules\/wrong-id\.ts declares the id "something-else"; a rule's id is its file name/)
  t.throws(() => loadRules(tempDir(t, { 'empty.ts': 'export const nothing = 1\n' })), /rules\/empty\.ts exports no `rule`/)
  t.throws(() => loadRules(tempDir(t, { 'bad-meta.ts': meta('bad-meta', ", defaultSeverity: 'fatal'") })), /bad-meta\.ts: meta needs a severity/)
})
