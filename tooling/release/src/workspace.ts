import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface WorkspacePackage {
  name: string
  version: string
  path: string
  manifest: Record<string, any>
}

/** The workspace packages that `pnpm release` publishes: not private, in the @o11y scope. */
export function publicPackages (root: string, env: NodeJS.ProcessEnv = process.env): WorkspacePackage[] {
  const out = execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8', env })
  const all = JSON.parse(out) as { name?: string, version?: string, path: string, private?: boolean }[]
  return all
    .filter((p) => p.private !== true && p.name?.startsWith('@o11y/'))
    .map((p) => ({
      name: p.name!,
      version: p.version!,
      path: p.path,
      manifest: JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')) as Record<string, any>
    }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Files of a tarball that are not allowed in a published package: only package.json, README.md,
 * LICENSE, dist/** (without source maps) and the files named by `bin` may ship.
 */
export function strayFiles (files: string[], manifest: Record<string, any>): string[] {
  const allowed = new Set(['package.json', 'README.md', 'LICENSE'])
  const bin: unknown = manifest.bin
  for (const f of typeof bin === 'string' ? [bin] : Object.values(bin ?? {})) allowed.add(String(f).replace(/^\.\//, ''))
  return files.filter((f) => !allowed.has(f) && !(f.startsWith('dist/') && !f.endsWith('.map')))
}
