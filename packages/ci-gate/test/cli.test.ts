import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'
import { appFile, runCapture, tempDir } from './helpers'

const PKG = join(__dirname, '..')
const BIN = join(PKG, 'bin', 'o11y-gate.js')
const VERSION = (JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { version: string }).version

function cli (args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const BARE = appFile("return db.query('x')")
const CLEAN = appFile("request.log.info('x'); return db.query('x')")

t.test('exit codes through the real bin: 0 clean, 1 findings, 2 usage/config/git', async (t) => {
  const clean = tempDir(t, { 'package.json': '{}', 'src/app.ts': CLEAN })
  let r = cli(['--all'], clean)
  t.equal(r.code, 0)
  t.match(r.stdout, /^No problems in 1 file\./)
  t.equal(r.stderr, 'o11y-gate: checked 1 file (all files under .): 0 errors, 0 warnings\n')

  const dirty = tempDir(t, { 'package.json': '{}', 'src/app.ts': BARE })
  r = cli(['--all'], dirty)
  t.equal(r.code, 1)
  t.match(r.stdout, /^src\/app\.ts\n {2}11:3 {4}error {4}route handler GET \/orders has no tracing, metrics or logging {2}route-instrumented\n/)

  r = cli(['--all', '--nope'], dirty)
  t.equal(r.code, 2)
  t.equal(r.stdout, '')
  t.equal(r.stderr, "o11y-gate: O11Y_ERR_GATE_USAGE: Unknown option '--nope' (see --help)\n")

  r = cli(['--all', '--staged'], dirty)
  t.equal(r.code, 2)
  t.equal(r.stderr, 'o11y-gate: O11Y_ERR_GATE_USAGE: --staged and --all cannot be combined; pick one mode\n')

  r = cli(['--base', 'main'], dirty)
  t.equal(r.code, 2)
  t.match(r.stderr, /^o11y-gate: O11Y_ERR_GATE_GIT: .* is not inside a git repository/)
  t.equal(r.stderr.split('\n').length, 2, 'one line')

  writeFileSync(join(dirty, '.o11y-gate.json'), '{ "rules": { "nope": "off" } }')
  r = cli(['--all'], dirty)
  t.equal(r.code, 2)
  t.equal(r.stderr, 'o11y-gate: O11Y_ERR_GATE_CONFIG: invalid configuration in .o11y-gate.json: unknown key "rules.nope"\n')
  r = cli(['--all', '--debug'], dirty)
  t.equal(r.code, 2)
  t.match(r.stderr, /^o11y-gate: O11Y_ERR_GATE_CONFIG: .*\nGateError: @o11y\/ci-gate: invalid configuration .*\n\s+at /, 'stack only with --debug')
})

t.test('--files, --help, --version', async (t) => {
  const dir = tempDir(t, { 'package.json': '{}', 'src/app.ts': BARE, 'src/ok.ts': CLEAN })
  let r = cli(['--files', 'src/ok.ts'], dir)
  t.equal(r.code, 0)
  r = cli(['--files', 'src/ok.ts', 'src/app.ts'], dir)
  t.equal(r.code, 1)
  t.match(r.stderr, /checked 2 files \(the given files\)/)
  const skipped = runCapture(['--files', 'src/ok.ts', 'src/ok.test.ts', 'README.md'], tempDir(t, { 'src/ok.ts': CLEAN, 'src/ok.test.ts': BARE, 'README.md': '#' }))
  t.equal(skipped.exitCode, 0)
  t.match(skipped.stderr, /^o11y-gate: skipped 2 files that the configuration excludes or that are not sources: README.md, src\/ok.test.ts\n/)
  t.equal(cli(['--files'], dir).stderr, 'o11y-gate: O11Y_ERR_GATE_USAGE: --files needs at least one file\n')
  t.equal(cli(['--files', 'src'], dir).stderr, 'o11y-gate: O11Y_ERR_GATE_USAGE: --files takes files, and src is a directory (use --all src)\n')
  t.equal(cli(['--files', 'nope.ts'], dir).stderr, 'o11y-gate: O11Y_ERR_GATE_USAGE: path nope.ts does not exist\n')
  r = cli(['--help'], dir)
  t.equal(r.code, 0)
  t.match(r.stdout, /^Usage: o11y-gate \[mode\] \[options\] \[paths\.\.\.\]/)
  t.match(r.stdout, /--write-baseline <file>/)
  r = cli(['-v'], dir)
  t.equal(r.stdout, `${VERSION}\n`)
})

t.test('large reports are written completely to a pipe', async (t) => {
  const routes = Array.from({ length: 400 }, (_, i) => `  app.get('/r${i}', async () => db.query('${i}'))`).join('\n')
  const dir = tempDir(t, { 'package.json': '{}', 'src/app.ts': appFile("return db.query('x')", routes) })
  const r = cli(['--all', '--format', 'json'], dir)
  t.equal(r.code, 1)
  t.equal(JSON.parse(r.stdout).findings.length, 401)
})

t.test('baseline: adopt an old codebase, fail only on new findings', async (t) => {
  const dir = tempDir(t, { 'package.json': '{}', 'src/app.ts': BARE })
  let r = runCapture(['--all', '--write-baseline', '.o11y-gate-baseline.json'], dir)
  t.equal(r.exitCode, 0, 'writing a baseline accepts the findings')
  t.match(r.stderr, /wrote 1 finding to baseline \.o11y-gate-baseline\.json/)
  const baseline = JSON.parse(readFileSync(join(dir, '.o11y-gate-baseline.json'), 'utf8'))
  t.equal(baseline.version, 1)
  t.same(baseline.findings.map((f: { ruleId: string, file: string }) => `${f.ruleId} ${f.file}`), ['route-instrumented src/app.ts'])
  t.notOk('line' in baseline.findings[0], 'no line numbers')

  r = runCapture(['--all', '--baseline', '.o11y-gate-baseline.json'], dir)
  t.equal(r.exitCode, 0)
  t.match(r.stderr, /0 errors, 0 warnings, 1 in baseline/)
  t.match(r.stdout, /accepted by the baseline: 1/)

  // the code moves down: still the same finding
  const path = join(dir, 'src/app.ts')
  writeFileSync(path, '// moved\n\n\n' + readFileSync(path, 'utf8'))
  t.equal(runCapture(['--all', '--baseline', '.o11y-gate-baseline.json'], dir).exitCode, 0)

  // a new route is a new finding
  writeFileSync(path, readFileSync(path, 'utf8').replace('  return app', "  app.get('/new', async () => db.query('n'))\n  return app"))
  r = runCapture(['--all', '--baseline', '.o11y-gate-baseline.json', '--format', 'json'], dir)
  t.equal(r.exitCode, 1)
  t.same(JSON.parse(r.stdout).findings.map((f: { message: string }) => f.message), ['route handler GET /new has no tracing, metrics or logging'])
  t.equal(JSON.parse(r.stdout).summary.baselined, 1)

  writeFileSync(join(dir, 'bad.json'), '{"version": 7, "findings": []}')
  r = runCapture(['--all', '--baseline', 'bad.json'], dir)
  t.equal(r.exitCode, 2)
  t.equal(r.stderr, 'o11y-gate: O11Y_ERR_GATE_BASELINE: baseline bad.json is not an o11y-gate baseline (version 1); write one with --write-baseline\n')
  writeFileSync(join(dir, 'broken.json'), '{')
  t.match(runCapture(['--all', '--baseline', 'broken.json'], dir).stderr, /^o11y-gate: O11Y_ERR_GATE_BASELINE: baseline broken.json is not valid JSON/)
  t.equal(runCapture(['--all', '--baseline', 'missing.json'], dir).stderr, 'o11y-gate: O11Y_ERR_GATE_BASELINE: cannot read baseline missing.json: ENOENT\n')
  t.match(runCapture(['--all', '--write-baseline', 'package.json/b.json'], dir).stderr, /^o11y-gate: O11Y_ERR_GATE_BASELINE: cannot write baseline package.json\/b.json: E/)
})

t.test('the built package loads from ESM and CommonJS consumers with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/ci-gate', PKG)
  t.same(seen.esm, seen.cjs)
  for (const name of ['run', 'analyzeFile', 'RULES', 'RULE_IDS', 'formatSarif', 'CONFIG_SCHEMA', 'GateError']) t.ok(seen.cjs.includes(name), name)
})
