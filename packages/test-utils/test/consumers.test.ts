import t from 'tap'
import { join } from 'node:path'
import { installedCopies, loadAsConsumers, packageVersion, resolvePackageDir } from '../src/index'

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
