import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { DEPLOY, withCredentialsFile } from './repo'

export const HA_DIR = join(DEPLOY, 'ha')
export const HA_PROMETHEUS_CONFIG = join(HA_DIR, 'prometheus.yml')
export const HA_CENTRAL_CONFIG = join(HA_DIR, 'prometheus-central.yml')
export const HA_COMPOSE_FILE = join(HA_DIR, 'compose.yaml')

export interface ReplicaTestOptions {
  /** `host:port` of every demo host (one scrape target each). */
  targets: string[]
  /** `host:port` of every Alertmanager of the cluster. */
  alertmanagers: string[]
  /** The central Prometheus' remote-write endpoint. */
  remoteWriteUrl: string
  /** The bearer token file the order-service job reads instead of the compose secret. */
  credentialsFile: string
}

/**
 * deploy/ha/prometheus.yml as the test runs it: its external labels, alert relabelling and
 * remote_write kept as they are, the order-service job pointed at the demo hosts' metrics ports
 * with 1 s intervals and its bearer token read from `credentialsFile`, the Alertmanagers and the
 * central store on local ports. Rule files are passed separately; the other jobs (Prometheus and
 * Alertmanager themselves) are left out.
 */
export function replicaTestConfig (options: ReplicaTestOptions): string {
  const config = YAML.parse(readFileSync(HA_PROMETHEUS_CONFIG, 'utf8'))
  const shipped = config.scrape_configs.find((s: { job_name: string }) => s.job_name === 'order-service')
  if (!shipped) throw new Error('ha/prometheus.yml has no order-service job')
  const job = withCredentialsFile(shipped, options.credentialsFile)
  const labels = job.static_configs[0]?.labels ?? {}
  const [remoteWrite] = config.remote_write ?? []
  if (!remoteWrite) throw new Error('ha/prometheus.yml has no remote_write')
  return YAML.stringify({
    global: { ...config.global, scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
    alerting: {
      alert_relabel_configs: config.alerting.alert_relabel_configs,
      alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }]
    },
    remote_write: [{ ...remoteWrite, url: options.remoteWriteUrl, queue_config: { ...remoteWrite.queue_config, batch_send_deadline: '1s' } }],
    scrape_configs: [{ ...job, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: options.targets, labels }] }]
  })
}

/** deploy/ha/prometheus-central.yml without its self-scrape (the test does not know its port in advance). */
export function centralTestConfig (): string {
  const config = YAML.parse(readFileSync(HA_CENTRAL_CONFIG, 'utf8'))
  return YAML.stringify({ global: config.global })
}

/** Raw samples of a range-vector instant query result: the largest distance between two in seconds. */
export function largestGap (values: Array<[number, string]>): number {
  let gap = 0
  for (let i = 1; i < values.length; i++) gap = Math.max(gap, (values[i] as [number, string])[0] - (values[i - 1] as [number, string])[0])
  return gap
}
