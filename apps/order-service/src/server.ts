// Entry point: node --import @o11y/tracing/register dist/server.js
import { getActiveTracing } from '@o11y/tracing'
import { startService } from './service.js'

async function main (): Promise<void> {
  let service
  try {
    // Spans still queued (the pool's last queries) are exported before the process ends.
    service = await startService({ flushTelemetry: async () => { await getActiveTracing()?.shutdown() } })
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
