import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'
import { walk } from './files'

const SOURCE = /\.(?:ts|mts|cts|tsx)$/

/** The TypeScript sources of a package (declaration files, build output and test fixtures excepted). */
export function sourceFiles (dir: string): string[] {
  return walk(dir, (path) => SOURCE.test(path) && !/\.d\.[mc]?ts$/.test(path))
}

function resolveRelative (from: string, specifier: string, files: Set<string>): string | undefined {
  const base = resolve(dirname(from), specifier)
  const stem = base.replace(/\.(?:[mc]?js|jsx)$/, '')
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, join(base, 'index.ts'), join(base, 'index.mts')]
  return candidates.find((c) => files.has(c))
}

/**
 * Who imports whom among `files`, by relative specifier: static imports and re-exports, type-only
 * imports (a cycle through types still ties the modules together), `import x = require()`,
 * `require()` and `import()`.
 */
export function importGraph (files: string[]): Map<string, string[]> {
  const set = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = new Set<string>()
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = resolveRelative(file, fileName, set)
      if (target !== undefined) targets.add(target)
    }
    graph.set(file, [...targets].sort())
  }
  return graph
}

/**
 * One cycle per strongly connected component of the graph that has one (Tarjan), each as the list
 * of files from its first file back to it: `[a, b, a]`.
 */
export function findCycles (graph: Map<string, string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter)
    counter++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop() as string
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      components.push(component)
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)

  const cycles: string[][] = []
  for (const component of components) {
    const members = new Set(component)
    const start = [...component].sort()[0] as string
    if (component.length === 1 && !(graph.get(start) ?? []).includes(start)) continue
    // Shortest way back to `start` inside the component (breadth first).
    const previous = new Map<string, string>()
    const queue = [start]
    let found = false
    while (queue.length > 0 && !found) {
      const v = queue.shift() as string
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue
        if (w === start) { previous.set(start, v); found = true; break }
        if (!previous.has(w)) { previous.set(w, v); queue.push(w) }
      }
    }
    const path = [start]
    for (let v = previous.get(start) as string; v !== start; v = previous.get(v) as string) path.unshift(v)
    path.unshift(start)
    cycles.push(path)
  }
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string))
}

/** The workspace's package folders, from the `packages:` list of pnpm-workspace.yaml (`dir/*` globs and plain folders). */
export function workspacePackages (root: string): string[] {
  const text = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const section = /^packages:\s*\n((?:\s+-\s*.+\n?)+)/m.exec(text)?.[1] ?? ''
  const dirs: string[] = []
  for (const m of section.matchAll(/-\s*['"]?([^'"\n]+?)['"]?\s*$/gm)) {
    const pattern = m[1] as string
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2))
      dirs.push(...walkPackages(parent))
    } else if (existsSync(join(root, pattern, 'package.json'))) {
      dirs.push(join(root, pattern))
    }
  }
  return dirs.sort()
}

function walkPackages (parent: string): string[] {
  if (!existsSync(parent)) return []
  return ts.sys.getDirectories(parent).map((d) => join(parent, d)).filter((d) => existsSync(join(d, 'package.json')))
}

/** `packages/x/src/a.ts -> packages/x/src/b.ts -> packages/x/src/a.ts`, relative to `root`. */
export function formatCycle (cycle: string[], root: string): string {
  return cycle.map((f) => relative(root, f).split(sep).join('/')).join(' -> ')
}
