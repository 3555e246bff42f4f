/**
 * Cluster scenarios (`o11y-metrics-cluster`): the scenario server is a node:cluster primary
 * running `clusterMetrics()` and forking BENCH_CLUSTER_WORKERS workers (default 1) that run the
 * app with `cluster: true`. The primary relays the runner's IPC messages to the first worker and
 * its answers back; its `ready` carries the worker's pid, so the runner's /proc CPU readings are
 * the worker's: the per-request cost in a worker, next to the single-process `o11y-metrics`.
 * Workers accept connections themselves (SCHED_NONE), as a single process does; with the default
 * round-robin the primary would accept and hand over every connection, a cost of node:cluster,
 * not of the metrics.
 */
import cluster, { type Worker } from 'node:cluster'
import type { FromServer, ToServer } from './protocol'

export const CLUSTER_WORKERS_ENV = 'BENCH_CLUSTER_WORKERS'
/** Label sets of a counter each worker fills at start (the cluster scrape measurement). */
export const CLUSTER_LABEL_SETS_ENV = 'BENCH_CLUSTER_LABEL_SETS'

export async function runClusterPrimary (): Promise<void> {
  const { clusterMetrics } = require('@o11y/metrics') as typeof import('@o11y/metrics')
  cluster.schedulingPolicy = cluster.SCHED_NONE
  const metrics = clusterMetrics({ timeoutMs: 5000 })
  const count = Number(process.env[CLUSTER_WORKERS_ENV] ?? '1')
  const toRunner = (m: FromServer): void => { if (process.send !== undefined) process.send(m) }
  const workers: Worker[] = []
  let ready = 0
  let first: { port: number, pid: number } | null = null
  cluster.on('message', (worker, m: FromServer | { o11y?: unknown }) => {
    if ('o11y' in m) return // clusterMetrics' own protocol
    const msg = m as FromServer
    if (msg.type === 'ready') {
      if (worker === workers[0]) first = { port: msg.port, pid: msg.pid }
      if (++ready === count && first !== null) toRunner({ type: 'ready', port: first.port, pid: first.pid })
    } else if (msg.type === 'error') toRunner(msg)
    else if (worker === workers[0]) toRunner(msg)
  })
  process.on('message', (m: ToServer) => {
    if (m.type === 'stop') {
      void (async () => {
        for (const w of workers) w.process.kill('SIGTERM')
        await metrics.close()
        toRunner({ type: 'stopped' })
        process.disconnect?.()
        process.exit(0)
      })()
      return
    }
    workers[0]?.send(m)
  })
  process.on('disconnect', () => {
    for (const w of workers) w.process.kill('SIGKILL')
    process.exit(0)
  })
  for (let i = 0; i < count; i++) workers.push(cluster.fork())
}
