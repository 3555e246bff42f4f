// Entry point: node --import @o11y/tracing/register dist/server.js [--workers N]
import cluster from 'node:cluster'
import { getActiveTracing } from '@o11y/tracing'
import { parseWorkers, runPrimary } from './cluster.js'
import { startService } from './service.js'

async function main (): Promise<void> {
  let service
  let workers = 1
  try {
    workers = cluster.isWorker ? 1 : parseWorkers(process.argv.slice(2))
    if (workers > 1) {
      process.exitCode = await runPrimary(workers)
      return
    }
    const worker = cluster.isWorker ? cluster.worker?.id : undefined
    // Spans still queued (the pool's last queries) are exported before the process ends.
    service = await startService({
      flushTelemetry: async () => { await getActiveTracing()?.shutdown() },
      // In cluster mode the first worker prints the banner; the others only their address.
      ...(worker !== undefined ? { clusterWorker: worker, print: worker === 1 ? undefined : (text: string) => { if (text.startsWith('order-service listening')) process.stdout.write(`worker ${worker}: ${text}`) } } : {})
    })
  } catch (err) {
    const e = err as Error & { code?: string }
    process.stderr.write(`order-service failed to start: ${e.code ? `${e.code} ` : ''}${e.message}\n`)
    process.exitCode = 1
    return
  }
  const running = service
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.shutdown(signal).then(
        () => {
          process.exitCode = 0
          // Only fires when something (a stray timer or socket) would keep the process alive.
          setTimeout(() => process.exit(), 2000).unref()
        },
        (err: unknown) => {
          process.stderr.write(`order-service shutdown failed: ${(err as Error).message}\n`)
          process.exitCode = 1
        }
      )
    })
  }
}

void main()
