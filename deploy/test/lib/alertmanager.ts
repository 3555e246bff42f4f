import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { ALERTMANAGER_CONFIG } from './repo'

/** The host the compose file runs the webhook sink on; tests point it at their own receiver. */
export const SINK_URL = 'http://alert-sink:8080'

/**
 * The repository's alertmanager.yml for a test: webhook URLs point at `sinkUrl` (paths kept) and the
 * grouping waits are shortened. Routes, receivers, matchers and inhibitions stay as they are.
 */
export function alertmanagerTestConfig (sinkUrl: string, waitSeconds = 1): string {
  const text = readFileSync(ALERTMANAGER_CONFIG, 'utf8')
  if (!text.includes(SINK_URL)) throw new Error(`alertmanager.yml no longer uses ${SINK_URL}`)
  const config = YAML.parse(text.split(SINK_URL).join(sinkUrl))
  const shorten = (route: any): void => {
    if (route.group_wait !== undefined || route === config.route) route.group_wait = `${waitSeconds}s`
    if (route.group_interval !== undefined || route === config.route) route.group_interval = `${waitSeconds}s`
    for (const child of route.routes ?? []) shorten(child)
  }
  shorten(config.route)
  return YAML.stringify(config)
}
