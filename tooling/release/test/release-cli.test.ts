// scripts/release.mjs refuses to publish where it must not, before anything is uploaded.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cleanEnv, runCommand } from '../src/index'

const ROOT = resolve(__dirname, '../../..')
const env = cleanEnv(process.env)

t.test('--help prints the usage', async (t) => {
  const res = await runCommand(process.execPath, ['scripts/release.mjs', '--help'], { cwd: ROOT, env, timeoutMs: 30_000 })
  t.equal(res.code, 0)
  t.match(res.stdout, /pnpm release --check-only/)
})

t.test('an unknown flag is a usage error', async (t) => {
  const res = await runCommand(process.execPath, ['scripts/release.mjs', '--publish-everywhere'], { cwd: ROOT, env, timeoutMs: 30_000 })
  t.equal(res.code, 2, 'exit code 2')
  t.match(res.stderr, /^release: Unknown option '--publish-everywhere'.*\(see pnpm release --help\)\n$/, 'one line, no stack trace')
})

t.test('refuses to publish @o11y packages to the public npm registry', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-release-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const rc = join(dir, 'npmrc')
  writeFileSync(rc, 'registry=https://registry.npmjs.org/\n')
  const res = await runCommand(process.execPath, ['scripts/release.mjs', '--skip-build', '--skip-checks'], {
    cwd: ROOT,
    env: { ...env, npm_config_userconfig: rc },
    timeoutMs: 120_000
  })
  t.equal(res.code, 1, 'exit code 1')
  t.match(res.stderr, /the @o11y registry resolves to the public npm registry \(https:\/\/registry\.npmjs\.org\/\); set @o11y:registry=/)
  t.notMatch(res.stdout, /publishing to/, 'nothing was published')
})
