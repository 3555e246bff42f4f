import t from 'tap'
import { renameSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDiff } from '../src/git'
import { appFile, commitAll, git, gitRepo, runCapture, tempDir, writeFiles } from './helpers'

const OLD_DEBT = "  app.get('/legacy', async () => db.query('select legacy'))"
const NEW_ROUTE = "  app.post('/refunds', async () => db.query('insert refund'))"

function repoWithDebt (t: Parameters<typeof gitRepo>[0]): string {
  return gitRepo(t, {
    'package.json': '{ "name": "shop", "private": true }\n',
    'src/app.ts': appFile("request.log.info('list'); return db.query('select')", OLD_DEBT)
  })
}

function addRoute (dir: string, file = 'src/app.ts'): void {
  const path = join(dir, file)
  writeFileSync(path, readFileSync(path, 'utf8').replace(OLD_DEBT, `${OLD_DEBT}\n${NEW_ROUTE}`))
}

t.test('--base: only handlers changed since the merge base are judged', async (t) => {
  const dir = repoWithDebt(t)
  t.equal(runCapture(['--base', 'main'], dir).exitCode, 0, 'no change, no finding (the old debt is not judged)')
  git(dir, 'checkout', '-q', '-b', 'feature')
  addRoute(dir)
  commitAll(dir, 'add refunds')
  // main moves on after the branch point: the merge base, not main's tip, is the reference
  git(dir, 'checkout', '-q', 'main')
  writeFiles(dir, { 'src/other.ts': 'export const x = 1\n' })
  commitAll(dir, 'main moves on')
  git(dir, 'checkout', '-q', 'feature')
  const r = runCapture(['--base', 'main', '--format', 'json'], dir)
  t.equal(r.exitCode, 1)
  const out = JSON.parse(r.stdout)
  t.same(out.findings.map((f: { file: string, message: string }) => `${f.file}: ${f.message}`), [
    'src/app.ts: route handler POST /refunds has no tracing, metrics or logging'
  ])
  t.match(r.stderr, /checked 1 file \(lines changed since main \(merge base [0-9a-f]+\)\): 1 error/)
  t.equal(runCapture(['--all', '.'], dir).exitCode, 1, '--all judges the old debt too')
})

t.test('default base: origin/HEAD, else main, else master; none is a git error', async (t) => {
  const dir = repoWithDebt(t)
  git(dir, 'checkout', '-q', '-b', 'feature')
  addRoute(dir)
  commitAll(dir, 'add refunds')
  let r = runCapture([], dir)
  t.equal(r.exitCode, 1)
  t.match(r.stderr, /since main /)

  git(dir, 'branch', '-m', 'main', 'master')
  r = runCapture([], dir)
  t.equal(r.exitCode, 1)
  t.match(r.stderr, /since master /)

  const clone = tempDir(t)
  git(clone, 'clone', '-q', dir, 'c')
  const cdir = join(clone, 'c')
  git(cdir, 'checkout', '-q', '-b', 'work')
  addRoute(cdir)
  commitAll(cdir, 'add refunds')
  git(cdir, 'branch', '-q', '-D', 'feature') // the clone's default branch is feature (the source's HEAD)
  r = runCapture([], cdir)
  t.equal(r.exitCode, 1)
  t.match(r.stderr, /since origin\/feature /, 'origin/HEAD wins')

  git(dir, 'branch', '-m', 'master', 'trunk')
  r = runCapture([], dir)
  t.equal(r.exitCode, 2)
  t.equal(r.stderr, 'o11y-gate: O11Y_ERR_GATE_GIT: cannot find the main branch (no origin/HEAD, main or master); pass --base <ref>\n')
})

t.test('--base with an unknown ref, and outside a repository, exit 2 with one line', async (t) => {
  const dir = repoWithDebt(t)
  const r = runCapture(['--base', 'nope'], dir)
  t.equal(r.exitCode, 2)
  t.equal(r.stderr, 'o11y-gate: O11Y_ERR_GATE_GIT: unknown git ref "nope" (in CI, check out with fetch-depth: 0)\n')
  git(dir, 'checkout', '-q', '--orphan', 'unrelated')
  commitAll(dir, 'no common history with main')
  const orphan = runCapture(['--base', 'main'], dir)
  t.equal(orphan.exitCode, 2)
  t.equal(orphan.stderr, 'o11y-gate: O11Y_ERR_GATE_GIT: "main" and HEAD have no common ancestor (a shallow clone? in CI, check out with fetch-depth: 0)\n')
  const plain = tempDir(t, { 'a.ts': 'export {}\n' })
  const out = runCapture(['--staged'], plain)
  t.equal(out.exitCode, 2)
  t.match(out.stderr, /^o11y-gate: O11Y_ERR_GATE_GIT: .* is not inside a git repository \(use --all or --files outside one\)\n$/)
})

t.test('--base includes uncommitted and untracked files; paths limit the changed files', async (t) => {
  const dir = repoWithDebt(t)
  writeFiles(dir, { 'src/routes/new.ts': "export async function r (app: any) { app.get('/n', async () => fetch('x')) }\n" })
  addRoute(dir)
  let r = runCapture(['--base', 'main', '--format', 'json'], dir)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string, line: number }) => f.file), ['src/app.ts', 'src/routes/new.ts'])
  r = runCapture(['--base', 'main', '--format', 'json', 'src/routes'], join(dir))
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file), ['src/routes/new.ts'])
  r = runCapture(['--base', 'main', '--format', 'json', 'routes'], join(dir, 'src'))
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file), ['src/routes/new.ts'], 'paths are relative to cwd, reports to the repository root')
})

t.test('--staged judges the index content, not the working tree', async (t) => {
  const dir = repoWithDebt(t)
  addRoute(dir)
  git(dir, 'add', 'src/app.ts')
  // fix it in the working tree only: the staged version still has the bare route
  const path = join(dir, 'src/app.ts')
  writeFileSync(path, readFileSync(path, 'utf8').replace("db.query('insert refund')", "{ request.log.info('refund'); return db.query('insert refund') }").replace("async () => {", 'async (request) => {'))
  let r = runCapture(['--staged', '--format', 'json'], dir)
  t.equal(r.exitCode, 1)
  t.same(JSON.parse(r.stdout).findings.map((f: { line: number, message: string }) => f.message), ['route handler POST /refunds has no tracing, metrics or logging'])
  t.match(r.stderr, /lines staged in the index/)
  git(dir, 'reset', '-q')
  r = runCapture(['--staged'], dir)
  t.equal(r.exitCode, 0, 'nothing staged, nothing judged')
  t.match(r.stderr, /checked 0 files/)
})

t.test('--staged in a repository without commits judges everything staged', async (t) => {
  const dir = tempDir(t, { 'package.json': '{}', 'src/app.ts': appFile("return db.query('x')") })
  git(dir, 'init', '-q', '-b', 'main')
  git(dir, 'add', '-A')
  const r = runCapture(['--staged'], dir)
  t.equal(r.exitCode, 1)
})

t.test('renames (-M): a pure rename is no change; a renamed and edited file reports under its new path', async (t) => {
  const dir = repoWithDebt(t)
  git(dir, 'checkout', '-q', '-b', 'feature')
  git(dir, 'mv', 'src/app.ts', 'src/server-app.ts')
  commitAll(dir, 'rename')
  let r = runCapture(['--base', 'main'], dir)
  t.equal(r.exitCode, 0, 'the moved file carries the old debt but nothing in it changed')
  t.match(r.stderr, /checked 0 files/)
  addRoute(dir, 'src/server-app.ts')
  commitAll(dir, 'edit after rename')
  r = runCapture(['--base', 'main', '--format', 'json'], dir)
  t.equal(r.exitCode, 1)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string, message: string }) => `${f.file}: ${f.message}`), [
    'src/server-app.ts: route handler POST /refunds has no tracing, metrics or logging'
  ])
  // rename plus edit in one commit, with a file name that git quotes
  git(dir, 'checkout', '-q', 'main')
  git(dir, 'checkout', '-q', '-b', 'second')
  renameSync(join(dir, 'src/app.ts'), join(dir, 'src/äpp "v2".ts'))
  addRoute(dir, 'src/äpp "v2".ts')
  commitAll(dir, 'rename and edit')
  r = runCapture(['--base', 'main', '--format', 'json'], dir)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file), ['src/äpp "v2".ts'])
})

t.test('--staged and renames: a staged pure rename is no change; a staged rename plus edit reports under the new path', async (t) => {
  const dir = repoWithDebt(t)
  git(dir, 'mv', 'src/app.ts', 'src/server.ts')
  let r = runCapture(['--staged'], dir)
  t.equal(r.exitCode, 0)
  t.match(r.stderr, /checked 0 files \(lines staged in the index\)/)
  addRoute(dir, 'src/server.ts')
  git(dir, 'add', 'src/server.ts')
  r = runCapture(['--staged', '--format', 'json'], dir)
  t.equal(r.exitCode, 1)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string, message: string }) => `${f.file}: ${f.message}`), [
    'src/server.ts: route handler POST /refunds has no tracing, metrics or logging'
  ], 'only the added route; the old debt moved with the file')
})

t.test('a user\'s diff settings do not change what is parsed', async (t) => {
  const dir = repoWithDebt(t)
  git(dir, 'config', 'color.ui', 'always')
  git(dir, 'config', 'diff.mnemonicPrefix', 'true')
  addRoute(dir)
  const r = runCapture(['--base', 'main', '--format', 'json'], dir)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string }) => f.file), ['src/app.ts'])
})

t.test('removing instrumentation from a handler changes that handler', async (t) => {
  const dir = repoWithDebt(t)
  const path = join(dir, 'src/app.ts')
  writeFileSync(path, readFileSync(path, 'utf8').replace("request.log.info('list'); return db.query('select')", "\n    return db.query('select')"))
  commitAll(dir, 'drop the log line')
  git(dir, 'checkout', '-q', '-b', 'x', 'HEAD~1')
  git(dir, 'checkout', '-q', 'main')
  const r = runCapture(['--base', 'HEAD~1', '--format', 'json'], dir)
  t.same(JSON.parse(r.stdout).findings.map((f: { message: string }) => f.message), ['route handler GET /orders has no tracing, metrics or logging'])
})

t.test('parseDiff reads hunks, deletions, new files and quoted paths', async (t) => {
  const diff = [
    'diff --git a/a.ts b/a.ts',
    '--- a/a.ts',
    '+++ b/a.ts',
    '@@ -1,0 +2,3 @@',
    '+x',
    '@@ -10,2 +12,0 @@',
    '@@ -20 +21 @@',
    'diff --git a/gone.ts b/gone.ts',
    '--- a/gone.ts',
    '+++ /dev/null',
    '@@ -1,2 +0,0 @@',
    'diff --git "a/q\\"x\\303\\244.ts" "b/q\\"x\\303\\244.ts"',
    '+++ "b/q\\"x\\303\\244\\t.ts"',
    '@@ -0,0 +1 @@'
  ].join('\n')
  const parsed = parseDiff(diff)
  t.same([...parsed.entries()], [
    ['a.ts', [[2, 4], [12, 12], [21, 21]]],
    ['q"xä\t.ts', [[1, 1]]]
  ])
})
