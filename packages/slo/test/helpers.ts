import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REPO_ROOT = join(__dirname, '..', '..', '..')
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy')
export const ORDER_SERVICE_SPEC = join(DEPLOY_DIR, 'slo', 'order-service.yaml')

/** A fresh temporary directory holding `files` (name -> content). */
export function tempDir (files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-slo-'))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  return dir
}

/** A small valid spec; tests replace single lines to break one field at a time. */
export const VALID_SPEC = `version: 1
service: shop
window: 28d
slos:
  - name: availability
    sli: availability
    objective: 99.9
  - name: search-latency
    sli: latency
    route: /api/search
    method: GET
    threshold: 0.5
    objective: 99
`
