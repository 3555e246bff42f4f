import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOnFreePort, stopAndRemove, waitFor, type WaitForOptions } from './process'

export interface AlertmanagerClusterOptions {
  /** `host:port` this Alertmanager gossips on (`--cluster.listen-address`), e.g. from freePort(). */
  listenAddress: string
  /** `host:port` of the other members (`--cluster.peer`, one each). */
  peers: string[]
  /**
   * `--cluster.peer-timeout`: how long the member at position n waits (n times this) for an earlier
   * member to send a notification before sending it itself (Alertmanager's default 15s).
   */
  peerTimeout?: string
  /** `--cluster.gossip-interval` (default here 200ms; Alertmanager's 200ms). */
  gossipInterval?: string
  /** `--cluster.pushpull-interval` (default here 5s; Alertmanager's 1m0s). */
  pushPullInterval?: string
}

export interface StartAlertmanagerOptions {
  /** Alertmanager configuration as YAML text. Exactly one of `configYaml` and `configFile` is needed. */
  configYaml?: string
  configFile?: string
  /** Join a gossip cluster (high availability); without it clustering is off. */
  cluster?: AlertmanagerClusterOptions
  args?: string[]
  /** Binary to start (default `prometheus-alertmanager`, the Debian name; upstream calls it `alertmanager`). */
  binary?: string
  readyTimeoutMs?: number
}

/** An alert as posted to or returned by the Alertmanager v2 API. */
export interface AmAlert {
  labels: Record<string, string>
  annotations?: Record<string, string>
  startsAt?: string
  endsAt?: string
  generatorURL?: string
  status?: { state: 'active' | 'suppressed' | 'unprocessed', inhibitedBy: string[], silencedBy: string[] }
  receivers?: Array<{ name: string }>
}

export interface AlertmanagerHandle {
  url: string
  port: number
  dir: string
  configFile: string
  /** POST /api/v2/alerts. */
  postAlerts: (alerts: AmAlert[]) => Promise<void>
  /** GET /api/v2/alerts (all states, including inhibited ones). */
  alerts: () => Promise<AmAlert[]>
  waitFor: <T>(fn: () => Promise<T> | T, options?: WaitForOptions) => Promise<NonNullable<T>>
  /** GET /api/v2/status: the cluster's status (`ready`, `settling`, `disabled`) and its peers. */
  clusterStatus: () => Promise<{ status: string, peers: Array<{ name: string, address: string }> }>
  logs: () => string
  /** SIGTERM (then SIGKILL), temporary folder removed. Idempotent. */
  stop: () => Promise<void>
  /** SIGKILL (a crash: nothing flushed, no goodbye to the cluster), temporary folder removed. */
  kill: () => Promise<void>
}

function clusterArgs (cluster: AlertmanagerClusterOptions | undefined): string[] {
  if (cluster === undefined) return ['--cluster.listen-address=']
  return [
    `--cluster.listen-address=${cluster.listenAddress}`,
    // On loopback there is no private address to find: advertise the listen address itself.
    `--cluster.advertise-address=${cluster.listenAddress}`,
    ...cluster.peers.map((p) => `--cluster.peer=${p}`),
    `--cluster.peer-timeout=${cluster.peerTimeout ?? '15s'}`,
    `--cluster.gossip-interval=${cluster.gossipInterval ?? '200ms'}`,
    `--cluster.pushpull-interval=${cluster.pushPullInterval ?? '5s'}`
  ]
}

/**
 * Starts a real Alertmanager (Debian's `prometheus-alertmanager` 0.25) on 127.0.0.1 with a
 * temporary storage directory, and waits until it is ready. Clustering is off unless `cluster` is
 * given.
 */
export async function startAlertmanager (options: StartAlertmanagerOptions): Promise<AlertmanagerHandle> {
  let text: string
  if (options.configYaml !== undefined) text = options.configYaml
  else if (options.configFile !== undefined) text = readFileSync(options.configFile, 'utf8')
  else throw new Error('startAlertmanager: one of the options configYaml or configFile is required')
  const dir = mkdtempSync(join(tmpdir(), 'o11y-alertmanager-'))
  const configFile = join(dir, 'alertmanager.yml')
  writeFileSync(configFile, text)
  const binary = options.binary ?? 'prometheus-alertmanager'
  const { managed, port, url } = await startOnFreePort(binary, dir, options.readyTimeoutMs, (port) => [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...clusterArgs(options.cluster),
    ...(options.args ?? [])
  ])
  return {
    url,
    port,
    dir,
    configFile,
    postAlerts: async (alerts) => {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts)
      })
      if (res.status !== 200) throw new Error(`Alertmanager rejected alerts: ${res.status} ${await res.text()}`)
    },
    alerts: async () => {
      const res = await fetch(`${url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`)
      if (res.status !== 200) throw new Error(`Alertmanager GET alerts: ${res.status} ${await res.text()}`)
      return await res.json() as AmAlert[]
    },
    waitFor,
    clusterStatus: async () => {
      const res = await fetch(`${url}/api/v2/status`)
      if (res.status !== 200) throw new Error(`Alertmanager GET status: ${res.status} ${await res.text()}`)
      const body = await res.json() as { cluster: { status: string, peers?: Array<{ name: string, address: string }> } }
      return { status: body.cluster.status, peers: body.cluster.peers ?? [] }
    },
    logs: managed.output,
    ...stopAndRemove(managed, dir)
  }
}
