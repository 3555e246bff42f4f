import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileEntry {
  name: string
  /** Milliseconds the function itself was on the CPU. */
  selfMs: number
  /** Milliseconds the function or anything it called was on the CPU. */
  totalMs: number
  selfPercent: number
  totalPercent: number
}

export interface ProfileSummary {
  file: string
  sampledMs: number
  /** Self time per package (node internals as `node:`, GC and idle as their V8 names). */
  packages: ProfileEntry[]
  /** Heaviest functions by self time. */
  functions: ProfileEntry[]
  /** Heaviest JavaScript functions (not node core) by total time. */
  inclusive: ProfileEntry[]
}

/** The package a script belongs to: the last node_modules segment, or the workspace folder. */
export function packageOf (url: string): string {
  if (url === '') return '(native)'
  if (url.startsWith('node:')) return 'node (core)'
  const path = url.replace(/^file:\/\//, '')
  const at = path.lastIndexOf('/node_modules/')
  if (at >= 0) {
    const parts = path.slice(at + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(path)
  if (workspace !== null) return workspace[1] === 'packages' ? `@o11y/${workspace[2]}` : workspace[2]!
  if (path.includes('/bench/')) return '@o11y/bench'
  return path
}

function shortUrl (url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const at = path.lastIndexOf('/node_modules/')
  if (at >= 0) return path.slice(at + '/node_modules/'.length)
  const ws = /\/((packages|apps|bench)\/.+)$/.exec(path)
  return ws !== null ? ws[1]! : path
}

function frameName (node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  if (url === '') return functionName === '' ? '(anonymous native)' : functionName
  return `${functionName === '' ? '(anonymous)' : functionName} ${shortUrl(url)}:${lineNumber + 1}`
}

/**
 * Self and total time per function and self time per package from a V8 .cpuprofile
 * (`node --cpu-prof`). Total time counts a function once per sample even when it recurses.
 */
export function summarizeProfile (file: string, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const packages = new Map<string, number>()
  let sampled = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000
    let id: number | undefined = profile.samples[i]!
    const leaf = byId.get(id)
    if (leaf === undefined) continue
    if (leaf.callFrame.functionName === '(idle)') continue
    sampled += dt
    const leafName = frameName(leaf)
    self.set(leafName, (self.get(leafName) ?? 0) + dt)
    const pkg = leaf.callFrame.url === '' ? leaf.callFrame.functionName || '(native)' : packageOf(leaf.callFrame.url)
    packages.set(pkg, (packages.get(pkg) ?? 0) + dt)
    const seen = new Set<string>()
    while (id !== undefined) {
      const node = byId.get(id)
      if (node === undefined) break
      const name = frameName(node)
      if (!seen.has(name)) {
        seen.add(name)
        total.set(name, (total.get(name) ?? 0) + dt)
      }
      id = parent.get(id)
    }
  }
  const entry = (name: string, selfMs: number, totalMs: number): ProfileEntry => ({
    name,
    selfMs: Math.round(selfMs * 10) / 10,
    totalMs: Math.round(totalMs * 10) / 10,
    selfPercent: sampled > 0 ? Math.round(selfMs / sampled * 1000) / 10 : 0,
    totalPercent: sampled > 0 ? Math.round(totalMs / sampled * 1000) / 10 : 0
  })
  const isUserland = (name: string): boolean => name.includes(' ') && !name.includes(' node:')
  return {
    file,
    sampledMs: Math.round(sampled),
    packages: [...packages].sort((a, b) => b[1] - a[1]).map(([name, ms]) => entry(name, ms, ms)),
    functions: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => entry(name, ms, total.get(name) ?? ms)),
    inclusive: [...total].filter(([name]) => isUserland(name)).sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, ms]) => entry(name, self.get(name) ?? 0, ms))
  }
}
