import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCapture, tempDir } from './helpers'

// The project's home URL is the root package.json `homepage`; scripts/project-urls.mjs derives
// the package.json URLs and the hand-written runbook links from it.
const REPO = join(__dirname, '..', '..', '..')
const SCRIPT = join(REPO, 'scripts', 'project-urls.mjs')
const HOME = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { homepage: string }).homepage

function script (root: string, ...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'project-urls.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('nothing in the repository has drifted from the root homepage', async (t) => {
  t.equal(HOME, 'https://github.com/o11y-fastify/o11y-fastify')
  const r = script(REPO, '--check')
  t.equal(r.status, 0, r.stdout + r.stderr)
  const gate = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'))
  t.same([gate.homepage, gate.repository.url, gate.bugs.url], [`${HOME}/tree/main/packages/ci-gate#readme`, `git+${HOME}.git`, `${HOME}/issues`])
})

t.test('SARIF links come from the package homepage', async (t) => {
  const dir = tempDir(t, { 'a.ts': 'export const a = 1\n' })
  const driver = JSON.parse(runCapture(['--all', '--format', 'sarif'], dir).stdout).runs[0].tool.driver
  t.equal(driver.informationUri, `${HOME}/tree/main/packages/ci-gate#readme`)
  t.ok(driver.rules.every((r: { id: string, helpUri: string }) => r.helpUri === `${HOME}/tree/main/packages/ci-gate#${r.id}`))
})

t.test('--check names what drifted and exits 1; without it the files are rewritten from the homepage', async (t) => {
  const root = tempDir(t)
  cpSync(SCRIPT, join(root, 'scripts', 'project-urls.mjs'))
  const pub = { name: '@x/a', version: '1.0.0', license: 'MIT', repository: { type: 'git', url: 'https://example.org/old.git', directory: 'packages/a' }, main: 'i.js' }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'root', private: true, homepage: 'https://git.example.org/team/proj' }))
  cpSync(join(REPO, 'packages', 'ci-gate', 'LICENSE'), join(root, 'packages', 'a', 'LICENSE'))
  writeFileSync(join(root, 'packages', 'a', 'package.json'), JSON.stringify(pub, null, 2) + '\n')
  cpSync(join(REPO, 'packages', 'ci-gate', 'LICENSE'), join(root, 'apps', 'demo', 'LICENSE'))
  const privateApp = JSON.stringify({ name: 'demo', private: true }, null, 2) + '\n'
  writeFileSync(join(root, 'apps', 'demo', 'package.json'), privateApp)
  cpSync(join(REPO, 'deploy', 'prometheus', 'rules', 'alerts.yml'), join(root, 'deploy', 'prometheus', 'rules', 'alerts.yml'))

  let r = script(root, '--check')
  t.equal(r.status, 1)
  t.equal(r.stdout, 'drifted from the root homepage: packages/a/package.json\ndrifted from the root homepage: deploy/prometheus/rules/alerts.yml\n')
  t.match(r.stderr, '2 file(s) drifted; run `pnpm urls`')

  r = script(root)
  t.equal(r.status, 0)
  const a = JSON.parse(readFileSync(join(root, 'packages', 'a', 'package.json'), 'utf8'))
  t.same(Object.keys(a), ['name', 'version', 'license', 'repository', 'homepage', 'bugs', 'main'], 'the URL fields sit after license')
  t.same(a.repository, { type: 'git', url: 'git+https://git.example.org/team/proj.git', directory: 'packages/a' })
  t.equal(a.homepage, 'https://git.example.org/team/proj/tree/main/packages/a#readme')
  t.equal(readFileSync(join(root, 'apps', 'demo', 'package.json'), 'utf8'), privateApp, 'private packages are left alone')
  const alerts = readFileSync(join(root, 'deploy', 'prometheus', 'rules', 'alerts.yml'), 'utf8')
  t.match(alerts, 'runbook_url: https://git.example.org/team/proj/blob/main/docs/runbooks.md#servicedown')
  t.notMatch(alerts, HOME)
  t.equal(script(root, '--check').status, 0)

  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'root', homepage: 'https://git.example.org/team/proj/' }))
  r = script(root, '--check')
  t.not(r.status, 0)
  t.match(r.stderr, 'root package.json needs "homepage"')
})

t.test('no placeholder domain (example dot invalid) anywhere under packages/, deploy/ and apps/', async (t) => {
  const hits: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name === '.tap' || name === '.git') continue
      const abs = join(dir, name)
      if (statSync(abs).isDirectory()) walk(abs)
      else if (readFileSync(abs).includes('example' + '.invalid')) hits.push(abs.slice(REPO.length + 1))
    }
  }
  for (const top of ['packages', 'deploy', 'apps']) walk(join(REPO, top))
  t.same(hits, [])
})
