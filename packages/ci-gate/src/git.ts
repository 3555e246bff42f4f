// Git plumbing: which files and lines changed. Runs the `git` binary; every failure becomes a
// GateError with the first line git printed.

import { execFileSync } from 'node:child_process'
import { gitError } from './errors'

export type ChangedLines = 'all' | [number, number][]

function git (args: string[], cwd: string): string {
  try {
    return execFileSync('git', ['-c', 'core.quotePath=false', ...args], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' }
    })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') throw gitError('git is not installed or not on PATH', err)
    const first = (e.stderr ?? '').split('\n').find((l) => l.trim().length > 0) ?? e.message
    throw gitError(`git ${args.join(' ')} failed: ${first.trim()}`, err)
  }
}

function tryGit (args: string[], cwd: string): string | undefined {
  try {
    return git(args, cwd)
  } catch {
    // o11y-gate-ignore error-observed: a probe; the caller turns "no answer" into a clear error when it matters
    return undefined
  }
}

/** The repository's top-level directory, or undefined outside a repository. */
export function repoRoot (cwd: string): string | undefined {
  return tryGit(['rev-parse', '--show-toplevel'], cwd)?.trim()
}

/** origin/HEAD's target, else main, master, origin/main, origin/master. */
export function defaultBase (cwd: string): string {
  const head = tryGit(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], cwd)?.trim()
  if (head !== undefined && head.length > 0) return head.replace(/^refs\/remotes\//, '')
  for (const ref of ['main', 'master', 'origin/main', 'origin/master']) {
    if (tryGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd) !== undefined) return ref
  }
  throw gitError('cannot find the main branch (no origin/HEAD, main or master); pass --base <ref>')
}

export function mergeBase (cwd: string, ref: string): string {
  if (tryGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd) === undefined) {
    throw gitError(`unknown git ref "${ref}" (in CI, check out with fetch-depth: 0)`)
  }
  const base = tryGit(['merge-base', ref, 'HEAD'], cwd)?.trim()
  // git prints nothing when there is no common ancestor, which is what a shallow clone looks like.
  if (base === undefined || base === '') throw gitError(`"${ref}" and HEAD have no common ancestor (a shallow clone? in CI, check out with fetch-depth: 0)`)
  return base
}

function unquote (path: string): string {
  if (!path.startsWith('"')) return path
  // C-style quoting, as git prints paths with special characters.
  const body = path.slice(1, -1)
  const bytes: number[] = []
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string
    if (c !== '\\') { bytes.push(...Buffer.from(c, 'utf8')); continue }
    const n = body[++i] as string
    if (/[0-7]/.test(n)) { bytes.push(parseInt(body.slice(i, i + 3), 8)); i += 2; continue }
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' }
    bytes.push(...Buffer.from(map[n] ?? n, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Added or changed lines per file (new path after renames) from `git diff --unified=0` output.
 * A pure deletion marks the line it happened after, so removing lines from a handler changes it.
 */
export function parseDiff (diff: string): Map<string, ChangedLines> {
  const files = new Map<string, ChangedLines>()
  let current: [number, number][] | undefined
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) { current = undefined; continue }
    if (line.startsWith('+++ ')) {
      // git ends the line with a TAB when the path contains a space
      const target = line.slice(4).replace(/\t$/, '')
      if (target === '/dev/null') { current = undefined; continue }
      const path = unquote(target).replace(/^b\//, '')
      current = []
      files.set(path, current)
      continue
    }
    const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line)
    if (m !== null && current !== undefined) {
      const start = Number(m[1])
      const count = m[2] === undefined ? 1 : Number(m[2])
      if (count > 0) current.push([start, start + count - 1])
      else current.push([Math.max(start, 1), Math.max(start, 1)])
    }
  }
  return files
}

// Explicit prefixes and no colour: a user's diff.noprefix, diff.mnemonicPrefix or color.ui cannot change what is parsed.
const DIFF_ARGS = ['diff', '--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', '--unified=0', '-M', '--diff-filter=ACMR']

/** Changes between the merge base and the working tree, plus untracked files. */
export function changesSince (cwd: string, base: string): Map<string, ChangedLines> {
  const changes = parseDiff(git([...DIFF_ARGS, base], cwd))
  for (const path of git(['ls-files', '--others', '--exclude-standard', '--full-name', '-z'], cwd).split('\0')) {
    if (path.length > 0) changes.set(path, 'all')
  }
  return changes
}

/** Changes staged in the index against HEAD (everything staged when there is no commit yet). */
export function stagedChanges (cwd: string): Map<string, ChangedLines> {
  return parseDiff(git([...DIFF_ARGS, '--cached'], cwd))
}

/** A file's staged content. */
export function stagedContent (cwd: string, path: string): string {
  return git(['show', `:${path}`], cwd)
}

export function shortSha (cwd: string, rev: string): string {
  return git(['rev-parse', '--short', rev], cwd).trim()
}

export function intersects (changed: ChangedLines, start: number, end: number): boolean {
  if (changed === 'all') return true
  return changed.some(([a, b]) => a <= end && b >= start)
}
