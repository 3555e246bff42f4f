import t from 'tap'
import { join } from 'node:path'
import { installedCopies, loadAsConsumers, packageVersion, pluginShapes, resolvePackageDir } from '../src/index'

t.test('a built package is loaded by an ESM and a CommonJS consumer with the same exports', async (t) => {
  const seen = loadAsConsumers('@o11y/test-utils', join(__dirname, '..'))
  t.ok(seen.cjs.includes('loadAsConsumers'))
  t.same(seen.esm, seen.cjs)
})

t.test('a missing package makes both consumers fail loudly', async (t) => {
  t.throws(() => loadAsConsumers('@o11y/does-not-exist', join(__dirname, '..')))
})

t.test('installedCopies finds every copy on disk, nested ones too; resolvePackageDir picks the one require would', async (t) => {
  const { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'o11y-copies-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const put = (rel: string, version: string): void => {
    mkdirSync(join(dir, rel), { recursive: true })
    writeFileSync(join(dir, rel, 'package.json'), JSON.stringify({ name: rel.split('node_modules/').at(-1), version }))
  }
  put('node_modules/@scope/shared', '1.0.0')
  put('node_modules/a', '1.0.0')
  put('node_modules/b', '1.0.0')
  put('node_modules/b/node_modules/@scope/shared', '2.0.0')
  put('node_modules/.cache/@scope/shared', '9.9.9') // a dot folder is not a package

  t.same(installedCopies(dir, '@scope/shared'), [
    { path: 'node_modules/@scope/shared', version: '1.0.0' },
    { path: 'node_modules/b/node_modules/@scope/shared', version: '2.0.0' }
  ])
  t.same(installedCopies(dir, 'missing'), [])
  t.same(installedCopies(join(dir, 'nowhere'), 'a'), [], 'no node_modules at all: no copies')

  const real = realpathSync(dir)
  t.equal(resolvePackageDir('@scope/shared', join(dir, 'node_modules/a')), join(real, 'node_modules/@scope/shared'), 'a gets the hoisted copy')
  t.equal(resolvePackageDir('@scope/shared', join(dir, 'node_modules/b')), join(real, 'node_modules/b/node_modules/@scope/shared'), 'b gets its nested copy')
  t.equal(packageVersion(resolvePackageDir('@scope/shared', join(dir, 'node_modules/b'))!), '2.0.0')
  t.equal(resolvePackageDir('not-installed-anywhere-o11y', dir), undefined)

  // A linked package (pnpm's layout) resolves from its real folder, and the answer is a real path.
  put('store/c/node_modules/c', '1.0.0')
  put('store/c/node_modules/@scope/shared', '3.0.0')
  symlinkSync(join(dir, 'store/c/node_modules/c'), join(dir, 'node_modules/c'))
  t.equal(resolvePackageDir('c', dir), join(real, 'store/c/node_modules/c'))
  t.equal(resolvePackageDir('@scope/shared', join(dir, 'node_modules/c')), join(real, 'store/c/node_modules/@scope/shared'), 'from the link\'s target, not from where the link sits')
})

t.test('pluginShapes: registers a plugin package three ways from both module systems, and tells a good shape from a bad one', async (t) => {
  const { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'o11y-shapes-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'node_modules'))
  // The real Fastify, as the consumer of a published plugin has it.
  symlinkSync(resolvePackageDir('fastify', join(__dirname, '..'))!, join(dir, 'node_modules', 'fastify'))
  const plugin = (name: string, exportsLine: string): void => {
    mkdirSync(join(dir, 'node_modules', name))
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }))
    writeFileSync(join(dir, 'node_modules', name, 'index.js'), `
      function demo (app, opts, done) { app.decorate('demo', 'here'); done() }
      demo[Symbol.for('skip-override')] = true
      demo[Symbol.for('fastify.display-name')] = '${name}'
      ${exportsLine}
    `)
  }
  // The @fastify/* shape: the module is the plugin and carries .default and the named export.
  plugin('good-plugin', 'module.exports = demo; module.exports.default = demo; module.exports.demoPlugin = demo')
  // An object of exports: require() gives no plugin.
  plugin('bad-plugin', 'module.exports = { default: demo, demoPlugin: demo }')
  const probe = `
    async function probe (Fastify, mod, plugin) {
      const app = Fastify()
      try { await app.register(plugin); await app.ready() } catch (err) { return 'failed: ' + err.code }
      const seen = app.demo
      await app.close()
      return seen ?? 'not registered'
    }
  `
  const good = pluginShapes('good-plugin', 'demoPlugin', probe, dir)
  const expected = { kind: 'function', same: true, displayName: 'good-plugin', require: 'here', default: 'here', named: 'here' }
  t.same(good.commonjs, expected, 'CommonJS consumer')
  t.same(good.module, expected, 'ESM consumer')
  const bad = pluginShapes('bad-plugin', 'demoPlugin', probe, dir)
  t.equal(bad.commonjs.kind, 'object', 'require() gives an object')
  t.equal(bad.commonjs.same, false)
  t.equal(bad.commonjs.named, 'here', 'the named export still works')
})
