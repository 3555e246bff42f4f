import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { dashboards, renderDashboard } from './index'

/** deploy/grafana/dashboards, from deploy/dist/dashboards or deploy/src/dashboards. */
export const DASHBOARDS_DIR = join(__dirname, '..', '..', 'grafana', 'dashboards')

/** Writes every dashboard's JSON; returns the paths written. */
export function generate (dir: string = DASHBOARDS_DIR): string[] {
  mkdirSync(dir, { recursive: true })
  return Object.entries(dashboards()).map(([file, dashboard]) => {
    const path = join(dir, file)
    writeFileSync(path, renderDashboard(dashboard))
    return path
  })
}

if (require.main === module) {
  for (const path of generate()) console.log(`wrote ${path}`)
}
