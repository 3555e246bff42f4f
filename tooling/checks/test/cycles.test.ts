import { join, resolve } from 'node:path'
import t from 'tap'
import { findCycles, formatCycle, importGraph, sourceFiles, workspacePackages } from '../src/cycles'

const ROOT = resolve(__dirname, '..', '..', '..')
const FIXTURES = join(__dirname, 'fixtures')

t.test('no workspace package has an import cycle (type imports included)', async (t) => {
  const packages = workspacePackages(ROOT)
  const names = packages.map((p) => p.slice(ROOT.length + 1))
  for (const expected of ['packages/metrics', 'packages/tracing', 'packages/logging', 'packages/ci-gate', 'packages/slo', 'packages/semconv', 'packages/test-utils', 'apps/order-service', 'deploy', 'bench', 'tooling/release', 'tooling/checks']) {
    t.ok(names.includes(expected), `${expected} is scanned`)
  }
  let files = 0
  const cycles: string[] = []
  for (const dir of packages) {
    const sources = sourceFiles(dir)
    files += sources.length
    cycles.push(...findCycles(importGraph(sources)).map((c) => formatCycle(c, ROOT)))
  }
  t.ok(files > 100, `${files} source files read`)
  t.same(cycles, [], cycles.length === 0 ? 'no cycles' : `import cycles:\n${cycles.join('\n')}`)
})

t.test('a cycle through a type import, a re-export with a .js specifier and a dynamic import is found', async (t) => {
  const dir = join(FIXTURES, 'cycle')
  const files = ['a.ts', 'b.ts', 'c.ts'].map((f) => join(dir, f))
  const cycles = findCycles(importGraph(files))
  t.same(cycles.map((c) => formatCycle(c, dir)), ['a.ts -> b.ts -> c.ts -> a.ts'])
})

t.test('a diamond and a package import are not cycles', async (t) => {
  const dir = join(FIXTURES, 'acyclic')
  const files = ['a.ts', 'b.ts', 'c.ts', 'd.ts'].map((f) => join(dir, f))
  const graph = importGraph(files)
  t.same(graph.get(join(dir, 'a.ts')), [join(dir, 'b.ts'), join(dir, 'c.ts')])
  t.same(findCycles(graph), [])
})

t.test('findCycles', async (t) => {
  t.same(findCycles(new Map([['a', ['a']]])), [['a', 'a']], 'a module importing itself')
  t.same(findCycles(new Map([['a', ['b']], ['b', ['c', 'a']], ['c', ['b']]])), [['a', 'b', 'a']], 'one cycle per knot, the shortest through its first file')
  t.same(findCycles(new Map([['x', ['y']], ['y', ['x']], ['p', ['q']], ['q', ['p']]])).length, 2, 'two separate knots, two cycles')
})
