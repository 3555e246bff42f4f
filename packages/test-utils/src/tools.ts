import { spawnSync } from 'node:child_process'

export const TOOL_INSTALL_HINT = 'apt-get install prometheus prometheus-alertmanager'

/** True when `name` is an executable on PATH. */
export function hasTool (name: string): boolean {
  const res = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  return res.status === 0 && res.stdout.trim() !== ''
}

/**
 * Decide whether a test that needs an external tool runs.
 * Returns `{ skip: false }` when the tool is present. When it is missing, CI (env CI set) must
 * fail rather than skip, so this returns `{ skip: false, missing: true }` there and the caller's
 * use of the tool fails loudly; elsewhere it returns a skip reason naming the install command.
 */
export function requireTool (name: string): { skip: false | string } {
  if (hasTool(name)) return { skip: false }
  if (process.env.CI) return { skip: false }
  return { skip: `${name} not on PATH: install it with \`${TOOL_INSTALL_HINT}\`` }
}
