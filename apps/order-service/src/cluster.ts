// `--workers N` (N > 1): the order service under node:cluster. The primary runs no app: it starts
// the embedded database once (unless DATABASE_URL), migrates the database, forks N workers that share the
// port, aggregates their metrics (@o11y/metrics clusterMetrics) and replaces a worker that dies.
import cluster, { type Worker } from 'node:cluster'
import { clusterMetrics } from '@o11y/metrics'
import { loadConfig } from './config.js'
import { ENV } from './constants.js'
import { createDatabase } from './db/database.js'
import { EMBEDDED_POOL_MAX, startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.js'
import { configError } from './errors.js'

export const MAX_WORKERS = 64
/** A worker that dies this soon after its start counts as a crash at start-up. */
const EARLY_EXIT_MS = 5000
/** Crashes at start-up in a row after which the primary gives up instead of forking forever. */
const MAX_EARLY_EXITS = 5

/** `--workers N` or `--workers=N` from argv, else the WORKERS variable, else 1. */
export function parseWorkers (argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  let raw: string | undefined = env[ENV.workers] || undefined
  let name: string = ENV.workers
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--workers') {
      raw = argv[i + 1] ?? ''
      name = '--workers'
      i++
    } else if (a.startsWith('--workers=')) {
      raw = a.slice('--workers='.length)
      name = '--workers'
    }
  }
  if (raw === undefined) return 1
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw configError(name, `an integer from 1 to ${MAX_WORKERS}`, raw)
  return n
}

/** Runs in the primary; resolves with the exit code once every worker is gone after a signal. */
export async function runPrimary (workers: number, print: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const config = loadConfig()
  const env: Record<string, string> = {}
  let embedded: EmbeddedPostgres | undefined
  if (config.databaseUrl === undefined) {
    print(`starting embedded PostgreSQL (PGlite) for ${workers} workers, data in ${config.dataDir} ...\n`)
    // PGlite is one backend: each worker gets one connection (pglite-socket keeps a transaction on
    // the connection that opened it); one spare lets a replacement worker connect.
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, maxConnections: workers * EMBEDDED_POOL_MAX + 1 })
    env[ENV.databaseUrl] = embedded.url
    env[ENV.dbPoolMax] = String(EMBEDDED_POOL_MAX)
  }
  // Migrate once, here, before any worker starts: N workers running `CREATE SCHEMA IF NOT EXISTS`
  // on a fresh schema at the same moment can fail on PostgreSQL's catalog unique index (the
  // advisory lock in migrate() only covers the migrations themselves). The workers then find
  // everything applied.
  const db = createDatabase({ connectionString: embedded?.url ?? config.databaseUrl as string, schema: config.dbSchema, max: 1, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs })
  try {
    await db.migrate()
  } finally {
    await db.close()
  }
  const metrics = clusterMetrics()
  let stopping = false
  let earlyExits = 0
  const started = new Map<number, number>()

  const fork = (): Worker => {
    const w = cluster.fork(env)
    started.set(w.id, Date.now())
    return w
  }

  const done = new Promise<number>((resolve) => {
    const finish = (code: number): void => {
      void metrics.close().then(async () => { await embedded?.stop() }).then(() => resolve(code), () => resolve(1))
    }
    cluster.on('exit', (worker, code, signal) => {
      const alive = Object.keys(cluster.workers ?? {}).length
      if (stopping) {
        if (alive === 0) finish(0)
        return
      }
      const early = Date.now() - (started.get(worker.id) ?? 0) < EARLY_EXIT_MS
      earlyExits = early ? earlyExits + 1 : 0
      process.stderr.write(`order-service: worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? code}); ${earlyExits >= MAX_EARLY_EXITS ? 'it keeps crashing at start-up, stopping' : 'starting a replacement'}\n`)
      if (earlyExits >= MAX_EARLY_EXITS) {
        stopping = true
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
        if (alive === 0) finish(1)
        else cluster.on('exit', () => { if (Object.keys(cluster.workers ?? {}).length === 0) finish(1) })
        return
      }
      fork()
    })
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      // Each worker shuts down gracefully on its own signal (in-flight requests, spans, logs).
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
    })
  }
  for (let i = 0; i < workers; i++) fork()
  print(`order-service primary (pid ${process.pid}): ${workers} node:cluster workers; /metrics on any worker answers for all of them\n`)
  return await done
}
