import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Folders no check reads: installed packages, build output, caches and test fixtures. */
export const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.turbo', '.tap', 'coverage', 'tap-snapshots', '.docs-blocks', 'fixtures'])

/** Every file below `dir` (skipping SKIPPED_DIRS) whose path `keep` accepts, sorted. */
export function walk (dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...walk(path, keep))
    } else if (entry.isFile() && keep(path)) {
      out.push(path)
    }
  }
  return out.sort()
}
