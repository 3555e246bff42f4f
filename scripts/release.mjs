#!/usr/bin/env node
// `pnpm release`: build, check and publish every public workspace package.
//
//   pnpm release                 build, check (publint, attw --pack, tarball contents), publish
//   pnpm release --dry-run       everything except the upload (pnpm publish --dry-run)
//   pnpm release --check-only    build and check, publish nothing (what CI runs on pull requests)
//   pnpm release --skip-build    reuse dist/ (the e2e test builds through turbo first)
//   pnpm release --skip-checks   publish without checking (only after a --check-only run)
//   pnpm release --tag next      publish under a dist-tag other than `latest`
//   pnpm release --git-tag       tag each published version (name@version) and print `New tag:` lines,
//                                as changesets/action expects from its publish command
//
// The registry is never named here: pnpm resolves it like npm does, from `publishConfig.registry`,
// `@o11y:registry=` in an .npmrc (project, user, or the file named by npm_config_userconfig) or
// npm_config_registry. See docs/publishing.md. Publishing to the public npm registry is refused
// unless O11Y_RELEASE_ALLOW_PUBLIC_NPM=1, so a missing .npmrc cannot leak internal packages.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { manifestProblems, placeholderProblems } from './release-manifest.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const SCOPE = '@o11y'
const PUBLIC_NPM = /^https?:\/\/registry\.(npmjs\.org|yarnpkg\.com)\/?$/

// What a published tarball may hold: the package manifest, its README and LICENSE, compiled
// output, and the files named by `bin`. Anything else (sources, tests, maps, configs) is a leak.
const ALWAYS_ALLOWED = new Set(['package.json', 'README.md', 'LICENSE'])

async function main () {
  let values
  try {
    ({ values } = parseArgs({
      options: {
        'dry-run': { type: 'boolean', default: false },
        'check-only': { type: 'boolean', default: false },
        'skip-build': { type: 'boolean', default: false },
        'skip-checks': { type: 'boolean', default: false },
        tag: { type: 'string' },
        'git-tag': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      },
      strict: true
    }))
  } catch (err) {
    process.stderr.write(`release: ${err.message} (see pnpm release --help)\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 11).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n')
    return 0
  }

  const packages = publicPackages()
  if (packages.length === 0) return fail('no public workspace packages found')
  log(`public packages: ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}`)

  if (!values['skip-build']) {
    const filters = packages.flatMap((p) => ['--filter', p.name])
    run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...filters])
  }

  if (!values['skip-checks']) {
    const packDir = mkdtempSync(join(tmpdir(), 'o11y-release-'))
    let problems
    try {
      problems = (await Promise.all(packages.map((pkg) => checkPackage(pkg, packDir)))).flat()
    } finally {
      rmSync(packDir, { recursive: true, force: true })
    }
    if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`release: ${p}\n`)
      return fail(`${problems.length} packaging problem(s); nothing was published`)
    }
    log(`checks passed for ${packages.length} package(s): publint, attw, tarball contents, ranges (no pins, no workspace:) and no example.invalid in any file`)
  }
  if (values['check-only']) return 0

  // publishConfig.registry in a package wins over .npmrc for that package (pnpm and npm agree).
  const pinned = [...new Set(packages.map((p) => p.manifest.publishConfig?.registry).filter(Boolean))]
  const registry = pinned.length === 1 && packages.every((p) => p.manifest.publishConfig?.registry) ? pinned[0] : resolveRegistry()
  if (!registry) return fail(`no registry configured for ${SCOPE}: set @o11y:registry= in an .npmrc (see docs/publishing.md)`)
  if (PUBLIC_NPM.test(registry) && process.env.O11Y_RELEASE_ALLOW_PUBLIC_NPM !== '1') {
    return fail(`the ${SCOPE} registry resolves to the public npm registry (${registry}); set @o11y:registry= to your internal registry, or O11Y_RELEASE_ALLOW_PUBLIC_NPM=1 if you really mean it`)
  }
  log(`publishing to ${registry}${values['dry-run'] ? ' (dry run)' : ''}`)

  // pnpm publish -r replaces `workspace:` and `catalog:` ranges with real versions and skips
  // versions the registry already has, so re-running a release is safe.
  const args = ['publish', '-r', '--no-git-checks', '--report-summary']
  for (const p of packages) args.push('--filter', p.name)
  if (values['dry-run']) args.push('--dry-run')
  if (values.tag) args.push('--tag', values.tag)
  run('pnpm', args)
  const summary = readSummary()
  if (summary) log(`published: ${summary.length === 0 ? 'nothing new' : summary.map((p) => `${p.name}@${p.version}`).join(', ')}`)
  if (values['git-tag'] && !values['dry-run']) {
    for (const p of summary ?? []) {
      const tag = `${p.name}@${p.version}`
      const exists = spawnSync('git', ['rev-parse', '-q', '--verify', `refs/tags/${tag}`], { cwd: ROOT }).status === 0
      if (!exists) run('git', ['tag', tag])
      log(`New tag: ${tag}`)
    }
  }
  return 0
}

function publicPackages () {
  const out = capture('pnpm', ['ls', '-r', '--depth', '-1', '--json'])
  /** @type {{ name: string, version: string, path: string, private: boolean }[]} */
  const all = JSON.parse(out)
  return all
    .filter((p) => !p.private && p.name && p.name.startsWith(`${SCOPE}/`))
    .map((p) => ({ ...p, manifest: JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')) }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

// Checks the tarball pnpm would publish (pnpm pack: `workspace:` and `catalog:` ranges already
// replaced), so publint and attw see exactly what consumers will download.
async function checkPackage (pkg, packDir) {
  const problems = []
  const dest = join(packDir, pkg.name.replace('/', '-'))
  const pack = await exec('pnpm', ['pack', '--pack-destination', dest, '--json'], { cwd: pkg.path })
  if (pack.code !== 0) return [`${pkg.name}: pnpm pack failed\n${indent(pack.stdout + pack.stderr)}`]
  const packed = JSON.parse(pack.stdout)
  const tarball = packed.filename
  const files = packed.files.map((f) => f.path).sort()

  const tools = join(ROOT, 'tooling/release/node_modules/.bin')
  const [publint, attw] = await Promise.all([
    exec(join(tools, 'publint'), ['run', '--strict', tarball], { cwd: dest }),
    // --profile node16: the packages declare engines >=22.15 and subpath exports (./register),
    // which TypeScript's legacy node10 resolution cannot see; node16 CJS, node16 ESM and bundler
    // resolution are all checked.
    exec(join(tools, 'attw'), [tarball, '--profile', 'node16', '--format', 'ascii', '--no-emoji'], { cwd: dest })
  ])
  if (publint.code !== 0) problems.push(`${pkg.name}: publint failed\n${indent(publint.stdout + publint.stderr)}`)
  else log(`${pkg.name}: publint clean`)
  if (attw.code !== 0) problems.push(`${pkg.name}: attw failed\n${indent(attw.stdout + attw.stderr)}`)
  else log(`${pkg.name}: attw clean`)

  const allowed = new Set(ALWAYS_ALLOWED)
  const binField = pkg.manifest.bin
  for (const f of typeof binField === 'string' ? [binField] : Object.values(binField ?? {})) allowed.add(String(f).replace(/^\.\//, ''))
  const stray = files.filter((f) => !allowed.has(f) && !(f.startsWith('dist/') && !f.endsWith('.map')))
  if (stray.length > 0) problems.push(`${pkg.name} (${relative(ROOT, pkg.path)}): the tarball may only hold dist (no maps), README.md, LICENSE, package.json and bin files; it also holds ${stray.join(', ')}`)
  for (const need of ['package.json', 'README.md', 'LICENSE']) {
    if (!files.includes(need)) problems.push(`${pkg.name}: the tarball lacks ${need}`)
  }
  if (!files.some((f) => f.startsWith('dist/'))) problems.push(`${pkg.name}: the tarball holds no dist/ files (not built, or "files" leaves dist out)`)
  // The packed manifest: no exact pins among the ranges npm resolves, no `workspace:`/`catalog:`
  // range left, no example.invalid placeholder (scripts/release-manifest.mjs).
  const manifest = await exec('tar', ['-xOzf', tarball, 'package/package.json'], { cwd: dest })
  if (manifest.code !== 0) problems.push(`${pkg.name}: cannot read package/package.json from ${tarball}\n${indent(manifest.stderr)}`)
  else problems.push(...manifestProblems(pkg.name, manifest.stdout))
  // Every other file of the tarball (README, built code with its SARIF help links): no placeholder.
  const unpacked = join(dest, 'unpacked')
  mkdirSync(unpacked, { recursive: true })
  const untar = await exec('tar', ['-xzf', tarball, '-C', unpacked], { cwd: dest })
  if (untar.code !== 0) problems.push(`${pkg.name}: cannot unpack ${tarball}\n${indent(untar.stderr)}`)
  else {
    const texts = files.filter((f) => f !== 'package.json').map((f) => [f, readFileSync(join(unpacked, 'package', f), 'utf8')])
    problems.push(...placeholderProblems(pkg.name, texts))
  }
  return problems
}

function resolveRegistry () {
  for (const key of [`${SCOPE}:registry`, 'registry']) {
    const value = capture('pnpm', ['config', 'get', key]).trim()
    if (value && value !== 'undefined') return value
  }
  return undefined
}

// pnpm --report-summary writes pnpm-publish-summary.json into the workspace root; read it once
// and remove it so a release leaves the work tree clean.
function readSummary () {
  const file = join(ROOT, 'pnpm-publish-summary.json')
  try {
    return JSON.parse(readFileSync(file, 'utf8')).publishedPackages
  } catch {
    return undefined
  } finally {
    rmSync(file, { force: true })
  }
}

function run (cmd, args, options = {}) {
  log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...options })
  if (r.status !== 0) {
    process.stderr.write(`release: \`${cmd} ${args.join(' ')}\` exited with ${r.status ?? r.signal}\n`)
    process.exit(1)
  }
}

function capture (cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024, ...options })
  if (r.status !== 0) {
    process.stderr.write(`release: \`${cmd} ${args.join(' ')}\` exited with ${r.status ?? r.signal}\n${r.stderr}`)
    process.exit(1)
  }
  return r.stdout
}

function exec (cmd, args, options) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => { stdout += c })
    child.stderr.on('data', (c) => { stderr += c })
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: stderr + String(err) }))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function indent (text) {
  return text.trim().split('\n').map((l) => `    ${l}`).join('\n')
}

function log (message) {
  process.stdout.write(`release: ${message}\n`)
}

function fail (message) {
  process.stderr.write(`release: ${message}\n`)
  return 1
}

process.exitCode = await main()
