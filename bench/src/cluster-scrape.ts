import { readFileSync } from 'node:fs'
import { CLUSTER_LABEL_SETS_ENV, CLUSTER_WORKERS_ENV } from './cluster-server'
import { processCpuMicros } from './proc'
import { ServerProcess } from './runner'
import { timeFormats, type ScrapeAnswer, type ScrapeResult } from './scrape'

/** Pids of the direct children of `pid` (the cluster workers of the primary). */
function children (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * `workers` cluster workers, each holding a counter with `labelSets` label sets (the same ones in
 * every worker, summed by the primary into `labelSets` series), scraped `iterations` times through
 * a worker's /metrics: worker -> primary -> every worker -> primary -> worker. CPU per scrape is
 * the whole process group's (primary plus workers), read from /proc.
 */
export async function measureClusterScrape (options: { workers: number, labelSets: number, iterations: number, cpu?: number }): Promise<ScrapeResult> {
  const saved = { w: process.env[CLUSTER_WORKERS_ENV], l: process.env[CLUSTER_LABEL_SETS_ENV] }
  process.env[CLUSTER_WORKERS_ENV] = String(options.workers)
  process.env[CLUSTER_LABEL_SETS_ENV] = String(options.labelSets)
  let server: ServerProcess
  try {
    server = await ServerProcess.start('o11y-metrics-cluster', { cpu: options.cpu, startTimeoutMs: 60000 })
  } finally {
    for (const [k, v] of [[CLUSTER_WORKERS_ENV, saved.w], [CLUSTER_LABEL_SETS_ENV, saved.l]] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  try {
    const primary = server.primaryPid
    const groupCpu = (): number => [primary, ...children(primary)].reduce((sum, pid) => sum + processCpuMicros(pid), 0)
    const get = async (accept: string | undefined): Promise<ScrapeAnswer> => {
      const started = process.hrtime.bigint()
      const response = await fetch(server.url('/metrics'), { headers: accept === undefined ? {} : { accept } })
      const text = await response.text()
      if (response.status !== 200) throw new Error(`@o11y/bench: cluster /metrics answered ${response.status}`)
      return { text, contentType: response.headers.get('content-type') ?? '', ms: Number(process.hrtime.bigint() - started) / 1e6 }
    }
    const formats = await timeFormats(get, groupCpu, options.iterations, 5)
    return { scenario: 'o11y-metrics-cluster', targetSeries: options.labelSets, routesHit: 0, workers: options.workers, formats }
  } finally {
    await server.stop()
  }
}
