// What consumers download: the packed manifests (pnpm pack, as `pnpm release` publishes them) carry
// @opentelemetry/api as a peer only, ranges instead of pins, and nothing pnpm-only. And `pnpm
// release` refuses a manifest that does not.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cleanEnv, publicPackages, runCommand } from '../src/index'

const ROOT = resolve(__dirname, '../../..')
const env = cleanEnv(process.env)
const packages = publicPackages(ROOT, env)
const API = '@opentelemetry/api'
const API_PEERS = ['@o11y/tracing', '@o11y/metrics', '@o11y/logging']
const RANGE_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const

interface ReleaseManifest {
  isExactVersion: (range: unknown) => boolean
  manifestProblems: (name: string, text: string) => string[]
  placeholderProblems: (name: string, files: Array<[string, string]>) => string[]
}
// The module `pnpm release` itself uses (scripts/release-manifest.mjs).
const load = async (): Promise<ReleaseManifest> => await import(join(ROOT, 'scripts/release-manifest.mjs')) as ReleaseManifest

t.test('the packed manifests of every public package', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-manifests-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const packs = await Promise.all(packages.map((pkg) => runCommand('pnpm', ['pack', '--pack-destination', dir, '--json'], { cwd: pkg.path, env, timeoutMs: 120_000 })))
  const { isExactVersion } = await load()
  t.same(packages.map((p) => p.name).filter((n) => API_PEERS.includes(n)).sort(), [...API_PEERS].sort(), 'tracing, metrics and logging are public packages')

  for (const [i, pkg] of packages.entries()) {
    if (!t.equal(packs[i]!.code, 0, `${pkg.name}: pnpm pack exits 0`)) { t.comment(packs[i]!.stdout + packs[i]!.stderr); continue }
    const tarball = (JSON.parse(packs[i]!.stdout) as { filename: string }).filename
    const text = execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' })
    const manifest = JSON.parse(text) as Record<string, Record<string, string> | undefined>

    t.notMatch(text, /workspace:/, `${pkg.name}: no workspace: range anywhere in the packed manifest`)
    t.notMatch(text, /catalog:/, `${pkg.name}: no catalog: range anywhere in the packed manifest`)
    t.notOk(manifest.dependencies?.[API], `${pkg.name}: ${API} is not among dependencies`)
    t.notOk(manifest.optionalDependencies?.[API], `${pkg.name}: ${API} is not among optionalDependencies`)
    t.notOk((manifest.bundleDependencies as unknown as string[] | undefined)?.includes(API), `${pkg.name}: ${API} is not bundled`)
    if (API_PEERS.includes(pkg.name)) {
      const peer = manifest.peerDependencies?.[API]
      t.ok(peer, `${pkg.name}: ${API} is a peer dependency (${peer})`)
      t.notOk(isExactVersion(peer), `${pkg.name}: the ${API} peer is a range, not one version`)
      t.notOk(manifest.peerDependenciesMeta?.[API] as unknown as { optional?: boolean } | undefined, `${pkg.name}: the ${API} peer is not optional (the app must install the one copy)`)
    }
    for (const field of RANGE_FIELDS) {
      const pinned = Object.entries(manifest[field] ?? {}).filter(([, range]) => isExactVersion(range))
      t.same(pinned, [], `${pkg.name}: no exact version among ${field}`)
    }
  }
})

t.test('isExactVersion: one version is a pin, anything that admits more is a range', async (t) => {
  const { isExactVersion } = await load()
  for (const pin of ['1.9.0', '=1.9.0', 'v1.9.0', ' 1.9.0 ', '1.10.0-rc.1', '2.0.0+build.5', 'npm:@opentelemetry/api@1.9.0', 'npm:left-pad@1.3.0']) {
    t.ok(isExactVersion(pin), `"${pin}" is a pin`)
  }
  for (const range of ['^1.9.0', '~1.9.0', '>=1.10.0 <1.11.0', '1.x', '1.9.x', '1.9', '*', '', 'latest', '^1.3.0 || ^2.0.0', 'npm:left-pad@^1.3.0', undefined, 5]) {
    t.notOk(isExactVersion(range), `${JSON.stringify(range)} is not a pin`)
  }
})

t.test('manifestProblems names every pin, workspace: range and example.invalid, one line each', async (t) => {
  const { manifestProblems } = await load()
  const clean = { name: '@o11y/x', version: '1.0.0', repository: { url: 'https://git.example.com/o11y.git' }, dependencies: { pino: '^10.4.0' }, peerDependencies: { [API]: '^1.3.0', fastify: '^5.0.0' }, devDependencies: { tap: '21.8.0' } }
  t.same(manifestProblems('@o11y/x', JSON.stringify(clean)), [], 'ranges pass; an exact devDependency is not installed by consumers and passes')

  const bad = {
    ...clean,
    homepage: 'https://EXAMPLE.invalid/o11y#readme',
    bugs: { url: 'https://example.invalid/issues' },
    keywords: ['see https://example.invalid/docs'],
    dependencies: { pino: '10.4.0', [API]: 'workspace:*', fastq: 'npm:fastq@1.17.1' },
    peerDependencies: { fastify: '=5.0.0' },
    optionalDependencies: { 'pg-native': 'v3.0.1' },
    o11y: { mirror: 'catalog:runtime' }
  }
  const problems = manifestProblems('@o11y/x', JSON.stringify(bad))
  t.same(problems.filter((p) => /pinned to the exact version/.test(p)).sort(), [
    '@o11y/x: dependencies.fastq is pinned to the exact version "npm:fastq@1.17.1"; publish a range (^1.17.1)',
    '@o11y/x: dependencies.pino is pinned to the exact version "10.4.0"; publish a range (^10.4.0)',
    '@o11y/x: optionalDependencies.pg-native is pinned to the exact version "v3.0.1"; publish a range (^3.0.1)',
    '@o11y/x: peerDependencies.fastify is pinned to the exact version "=5.0.0"; publish a range (^5.0.0)'
  ], 'each pin, with the field, the package and the range to publish instead')
  t.ok(problems.includes(`@o11y/x: dependencies.${API} is "workspace:*" in the packed manifest; pnpm pack should have replaced it with a real range`), 'a workspace: range')
  t.ok(problems.includes('@o11y/x: o11y.mirror is "catalog:runtime" in the packed manifest; pnpm pack should have replaced it with a real range'), 'a catalog: range in any field')
  for (const where of ['homepage', 'bugs.url', 'keywords[0]']) {
    t.ok(problems.some((p) => p.startsWith(`@o11y/x: ${where} is "`) && p.endsWith('example.invalid is a placeholder, not something to publish')), `example.invalid in ${where}`)
  }
  t.equal(problems.length, 9, 'nothing else: four pins, two pnpm-only ranges, three placeholders')
  t.same(manifestProblems('@o11y/x', JSON.stringify({ name: '@o11y/x', publishConfig: { 'https://example.invalid/': true } })), ['@o11y/x: the key publishConfig.https://example.invalid/ names example.invalid'], 'in a key too')
  t.match(manifestProblems('@o11y/x', '{"name": "@o11y/x",'), [/^@o11y\/x: the packed package\.json is not valid JSON/], 'a broken manifest is a problem, not a crash')
})

t.test('placeholderProblems names each file and line that holds example.invalid', async (t) => {
  const { placeholderProblems } = await load()
  t.same(placeholderProblems('@o11y/x', [
    ['README.md', '# x\n\nsee https://example.invalid/docs\n'],
    ['dist/index.js', "exports.url = 'https://Example.Invalid/'\n"],
    ['dist/clean.js', "exports.url = 'https://o11y.dev/'\n"]
  ]), [
    '@o11y/x: README.md line 3 names example.invalid, a placeholder that would ship',
    '@o11y/x: dist/index.js line 1 names example.invalid, a placeholder that would ship'
  ])
  t.same(placeholderProblems('@o11y/x', []), [])
})

t.test('pnpm release --check-only fails on a pinned or placeholder manifest and publishes nothing', async (t) => {
  // A workspace of its own with the real release script: one clean package, one with a pinned
  // dependency, an exact peer and an example.invalid repository URL.
  const ws = mkdtempSync(join(tmpdir(), 'o11y-release-pins-'))
  t.teardown(() => rmSync(ws, { recursive: true, force: true }))
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'pins-root', private: true }))
  writeFileSync(join(ws, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n')
  mkdirSync(join(ws, 'scripts'))
  for (const f of readdirSync(join(ROOT, 'scripts')).filter((f) => f.startsWith('release'))) copyFileSync(join(ROOT, 'scripts', f), join(ws, 'scripts', f))
  mkdirSync(join(ws, 'tooling/release'), { recursive: true })
  symlinkSync(join(ROOT, 'tooling/release/node_modules'), join(ws, 'tooling/release/node_modules'))
  const pkg = (name: string, extra: Record<string, unknown>): void => {
    const dir = join(ws, 'packages', name)
    mkdirSync(join(dir, 'dist'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: `@o11y/${name}`,
      version: '1.0.0',
      license: 'MIT',
      main: './dist/index.js',
      types: './dist/index.d.ts',
      files: ['dist'],
      ...extra
    }, null, 2))
    writeFileSync(join(dir, 'dist/index.js'), "'use strict'\nexports.x = 1\n")
    writeFileSync(join(dir, 'dist/index.d.ts'), 'export declare const x: number\n')
    writeFileSync(join(dir, 'README.md'), `# @o11y/${name}\n`)
    writeFileSync(join(dir, 'LICENSE'), 'MIT\n')
  }
  pkg('clean', { repository: { type: 'git', url: 'https://git.example.com/o11y.git' }, dependencies: { 'left-pad': '^1.3.0' } })
  pkg('pinned', { repository: { type: 'git', url: 'https://example.invalid/o11y.git' }, dependencies: { 'left-pad': '1.3.0' }, peerDependencies: { [API]: '1.9.0' } })
  // A placeholder outside the manifest: in the README and in built code (as a SARIF help link would be).
  writeFileSync(join(ws, 'packages/pinned/README.md'), '# @o11y/pinned\n\nDocs: https://example.invalid/docs\n')
  writeFileSync(join(ws, 'packages/pinned/dist/index.js'), "'use strict'\nexports.x = 1\nexports.help = 'https://EXAMPLE.invalid/rules/x'\n")

  const res = await runCommand(process.execPath, ['scripts/release.mjs', '--skip-build', '--check-only'], { cwd: ws, env, timeoutMs: 180_000 })
  t.equal(res.code, 1, 'exit code 1')
  t.match(res.stderr, 'release: @o11y/pinned: dependencies.left-pad is pinned to the exact version "1.3.0"; publish a range (^1.3.0)')
  t.match(res.stderr, `release: @o11y/pinned: peerDependencies.${API} is pinned to the exact version "1.9.0"`)
  t.match(res.stderr, 'release: @o11y/pinned: repository.url is "https://example.invalid/o11y.git": example.invalid is a placeholder')
  t.match(res.stderr, 'release: @o11y/pinned: README.md line 3 names example.invalid, a placeholder that would ship')
  t.match(res.stderr, 'release: @o11y/pinned: dist/index.js line 3 names example.invalid, a placeholder that would ship')
  t.notMatch(res.stderr, /@o11y\/clean: (?:dependencies|repository|README|dist)/, 'the clean package has no range or placeholder problem')
  t.match(res.stderr, /packaging problem\(s\); nothing was published/)
  t.notMatch(res.stdout, /publishing to|checks passed/, 'nothing was published')
})
