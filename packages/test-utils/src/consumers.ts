import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface ConsumerExports {
  esm: string[]
  cjs: string[]
}

/**
 * Load a built package the way its users do: once with `import` from an ES module and once with
 * `require` from a CommonJS script, each in a fresh Node process started in `cwd` (a package can
 * import itself by name through its `exports` map). Returns the export names each consumer saw.
 */
export function loadAsConsumers (specifier: string, cwd: string): ConsumerExports {
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e',
    `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter(k => k !== 'default' && k !== 'module.exports' && k !== '__esModule').sort()))`],
  { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  const cjs = execFileSync(process.execPath, ['--input-type=commonjs', '-e',
    `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter(k => k !== 'default' && k !== '__esModule').sort()))`],
  { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return { esm: JSON.parse(lastLine(esm)) as string[], cjs: JSON.parse(lastLine(cjs)) as string[] }
}

/**
 * Runs `source` with `node --input-type=<type> -e` in `cwd` (as a consumer of the packages
 * installed there, without the test runner's NODE_OPTIONS) and returns its last stdout line, parsed
 * as JSON: what the consumer printed with `console.log(JSON.stringify(...))`.
 */
export function runAsConsumer (type: 'module' | 'commonjs', source: string, cwd: string): unknown {
  const stdout = execFileSync(process.execPath, [`--input-type=${type}`, '-e', source], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return JSON.parse(lastLine(stdout)) as unknown
}

/** What one consumer saw of a Fastify plugin package's export shape. */
export interface PluginShape {
  /** `typeof` the module (CommonJS) or of its default import (ESM): `'function'` for the plugin itself. */
  kind: string
  /** The module, its `.default` and the named export are one function (and, from ESM, the same as `require()` gives). */
  same: boolean
  /** The plugin's `fastify.display-name`. */
  displayName: unknown
  /** What `probe` returned for the plugin as `require()` / the default import gives it, for `.default` and for the named export. */
  require: unknown
  default: unknown
  named: unknown
}

/**
 * Registers a Fastify plugin package the three ways its users do, from a CommonJS and from an ES
 * module consumer in `cwd`: the module itself (`require()`, the default import), its `.default`
 * and its named export `named`. `probe` is the source of `async function probe (Fastify, mod,
 * plugin)`, which builds an app with `plugin`, answers a request and returns what it observed
 * (`mod` is the whole module, for helpers such as logger options).
 */
export function pluginShapes (specifier: string, named: string, probe: string, cwd: string): { commonjs: PluginShape, module: PluginShape } {
  const pkg = JSON.stringify(specifier)
  const name = JSON.stringify(named)
  const commonjs = runAsConsumer('commonjs', `
    const Fastify = require('fastify')
    ${probe}
    const mod = require(${pkg})
    ;(async () => {
      console.log(JSON.stringify({
        kind: typeof mod,
        same: mod === mod.default && mod === mod[${name}],
        displayName: mod[${name}][Symbol.for('fastify.display-name')],
        require: await probe(Fastify, mod, require(${pkg})),
        default: await probe(Fastify, mod, mod.default),
        named: await probe(Fastify, mod, require(${pkg})[${name}])
      }))
    })()
  `, cwd) as PluginShape
  const module = runAsConsumer('module', `
    import Fastify from 'fastify'
    import plugin, * as mod from ${pkg}
    import { createRequire } from 'node:module'
    ${probe}
    const named = mod[${name}]
    const cjs = createRequire(process.cwd() + '/')(${pkg})
    console.log(JSON.stringify({
      kind: typeof plugin,
      same: plugin === named && plugin.default === named && cjs === named,
      displayName: named[Symbol.for('fastify.display-name')],
      require: await probe(Fastify, mod, plugin),
      default: await probe(Fastify, mod, plugin.default),
      named: await probe(Fastify, mod, named)
    }))
  `, cwd) as PluginShape
  return { commonjs, module }
}

function lastLine (text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? '[]'
}

export interface InstalledCopy {
  /** Relative to the install folder, with `/` separators: `node_modules/a/node_modules/b`. */
  path: string
  version: string
}

/**
 * Every installed copy of package `name` under `dir/node_modules`, nested ones included, sorted by
 * path: what a fresh `npm install` put on disk (npm's layout; pnpm's `.pnpm` store is skipped).
 */
export function installedCopies (dir: string, name: string): InstalledCopy[] {
  const found: InstalledCopy[] = []
  const walk = (modules: string, rel: string): void => {
    if (!existsSync(modules)) return
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue
      const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry]
      for (const pkg of names) {
        const pkgDir = join(modules, pkg)
        const relPath = `${rel}node_modules/${pkg}`
        if (pkg === name) found.push({ path: relPath, version: packageVersion(pkgDir) })
        walk(join(pkgDir, 'node_modules'), `${relPath}/`)
      }
    }
  }
  walk(join(dir, 'node_modules'), '')
  return found.sort((a, b) => a.path.localeCompare(b.path))
}

/**
 * The folder Node's `require` loads package `name` from when asked by code in `fromDir`: the first
 * `node_modules/<name>` up the folders from the real path of `fromDir`, as a real path (pnpm's
 * links resolved, so that two answers are the same copy exactly when they are equal). Undefined
 * when no folder up the tree holds it.
 */
export function resolvePackageDir (name: string, fromDir: string): string | undefined {
  let dir = realpathSync(fromDir)
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** The `version` of the package.json in `pkgDir`. */
export function packageVersion (pkgDir: string): string {
  return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version
}
