import type { Test } from 'tap'

export interface TestDatabase {
  url: string
  /** Database name: part of the pg span names (`pg.query:SELECT <database>`). */
  database: string
  /** Connections the tests may open at once (PGlite serves one at a time). */
  poolMax: number
  kind: 'real' | 'embedded'
  /** Stops the embedded server (no-op for a real one); call it after closing your pools. */
  stop (): Promise<void>
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

/**
 * The PostgreSQL the tests run against: DATABASE_URL when set (CI sets it; it must work), else the
 * local server when it answers, else an embedded PGlite (real PostgreSQL compiled to WebAssembly)
 * served over the wire protocol, so the `pg` driver and its instrumentation are the real ones.
 * `O11Y_TEST_DB=embedded` forces PGlite. The probe is a plain TCP connect, so no pg span is made.
 */
export async function testDatabase (t: Test): Promise<TestDatabase> {
  const stop = async (): Promise<void> => {}
  const configured = process.env.DATABASE_URL
  const forceEmbedded = process.env.O11Y_TEST_DB === 'embedded'
  if (!forceEmbedded && configured !== undefined && configured !== '') return { url: configured, database: databaseName(configured), poolMax: 2, kind: 'real', stop }
  if (!forceEmbedded && await reachable(DEFAULT_URL)) return { url: DEFAULT_URL, database: 'test', poolMax: 2, kind: 'real', stop }
  t.comment(`no PostgreSQL at ${DEFAULT_URL} and no DATABASE_URL: using an embedded PGlite`)
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 })
  await server.start()
  const conn = server.getServerConn()
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1))
  let stopped: Promise<void> | undefined
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    url,
    database: 'postgres',
    poolMax: 1,
    kind: 'embedded',
    stop: () => {
      stopped ??= (async () => {
        await server.stop()
        await db.close()
      })()
      return stopped
    }
  }
}

function databaseName (url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres'
}

async function reachable (url: string): Promise<boolean> {
  const net = await import('node:net')
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 5432), hostname)
    socket.setTimeout(1000)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => resolve(false))
  })
}
