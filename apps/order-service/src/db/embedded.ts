import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { ERROR_CODES, OrderServiceError } from '../errors.js'

export interface EmbeddedPostgresOptions {
  /** Folder of the database files, created when missing; `memory://` keeps it in memory. */
  dataDir: string
  host?: string
  /** 0 (default) picks a free port. */
  port?: number
  /** Client connections the socket server accepts (cluster mode: one per worker plus a spare). Default 2. */
  maxConnections?: number
}

export interface EmbeddedPostgres {
  /** postgres:// URL for the `pg` driver. */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Stops accepting connections and drops the open ones; the data stays in memory. */
  pause (): Promise<void>
  /** Listens again on the same port after pause(). */
  resume (): Promise<void>
  /** Stops the server and closes the database (flushes it to dataDir). Idempotent. */
  stop (): Promise<void>
}

/**
 * The connection budget of the socket server. PGlite is one single-user backend: the server queues
 * protocol messages from several sockets one by one, so two sockets sending extended-protocol
 * queries (Parse/Bind/Execute) at once could interleave. The pool therefore holds at most one
 * connection to it; one spare slot lets a replacement connect while a dropped one is cleaned up.
 */
export const EMBEDDED_POOL_MAX = 1
const EMBEDDED_MAX_CONNECTIONS = EMBEDDED_POOL_MAX + 1

/**
 * PostgreSQL compiled to WebAssembly (PGlite) served over the wire protocol on a loopback port,
 * so the app uses the same `pg` driver (and its instrumentation) as with a real server.
 */
export async function startEmbeddedPostgres (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir
  let db: PGlite
  try {
    if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true })
    db = await PGlite.create({ dataDir })
  } catch (err) {
    throw new OrderServiceError(ERROR_CODES.embeddedDb, `cannot open the embedded database in ${dataDir}: ${(err as Error).message}`, { cause: err })
  }
  const server = new PGLiteSocketServer({
    db,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? EMBEDDED_MAX_CONNECTIONS
  })
  try {
    await server.start()
  } catch (err) {
    await db.close()
    throw new OrderServiceError(ERROR_CODES.embeddedDb, `cannot listen for the embedded database: ${(err as Error).message}`, { cause: err })
  }
  const conn = server.getServerConn()
  const sep = conn.lastIndexOf(':')
  const host = conn.slice(0, sep)
  const port = Number(conn.slice(sep + 1))
  let running = true
  let stopped: Promise<void> | undefined

  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    host,
    port,
    dataDir,
    async pause () {
      if (!running) return
      running = false
      await server.stop()
    },
    async resume () {
      if (running || stopped) return
      await server.start()
      running = true
    },
    stop () {
      stopped ??= (async () => {
        if (running) await server.stop()
        running = false
        await db.close()
      })()
      return stopped
    }
  }
}
