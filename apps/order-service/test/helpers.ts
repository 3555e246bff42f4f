import net from 'node:net'
import pg from 'pg'
import type { Test } from 'tap'
import { createDatabase, type Database } from '../src/db/database.js'
import { EMBEDDED_POOL_MAX, startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.js'

export const REAL_DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'

let counter = 0
/** A schema name unique to this run, this process and this call: parallel runs never collide. */
export function uniqueSchema (prefix = 'os_test'): string {
  return `${prefix}_${Date.now().toString(36)}_${process.pid}_${counter++}`
}

async function reachable (url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await client.end().catch(() => {})
  }
}

export interface DbTarget {
  name: 'real' | 'embedded'
  url: string
  poolMax: number
  /** Only for the embedded target. */
  embedded?: EmbeddedPostgres
}

/**
 * The databases the integration tests run against: the real PostgreSQL (DATABASE_URL, else
 * the local default) and an embedded PGlite started for this test file. Without a reachable real
 * server the real target is skipped with a visible reason, except under CI where that fails.
 */
export async function databaseTargets (t: Test): Promise<DbTarget[]> {
  const targets: DbTarget[] = []
  const problem = await reachable(REAL_DATABASE_URL)
  if (problem === undefined) {
    targets.push({ name: 'real', url: REAL_DATABASE_URL, poolMax: 5 })
  } else if (process.env.CI) {
    t.fail(`real PostgreSQL unreachable at ${REAL_DATABASE_URL} (${problem}); CI requires it`)
  } else {
    t.comment(`skipping the real PostgreSQL target: ${problem} (set DATABASE_URL to run it)`)
  }
  const embedded = await startEmbeddedPostgres({ dataDir: 'memory://' })
  t.teardown(() => embedded.stop())
  targets.push({ name: 'embedded', url: embedded.url, poolMax: EMBEDDED_POOL_MAX, embedded })
  return targets
}

/**
 * Service environment for a test about something other than the database (shutdown, metrics
 * exposure): the real PostgreSQL in a schema of its own, dropped in teardown. Each embedded PGlite
 * costs seconds of CPU to start (over 40 s on a loaded 2-core machine), and the embedded start is
 * proven by the tests that are about it. Without a reachable real server (outside CI) it falls
 * back to the embedded database. The connect timeout is raised from the service's 2 s default:
 * these tests are not about it (config.test.ts and database.test.ts are), and in CI a connect
 * beside other suites' load, in a process that has just run PGlite, once took longer than 2 s.
 */
export async function serviceDatabaseEnv (t: Test): Promise<Record<string, string>> {
  const problem = await reachable(REAL_DATABASE_URL)
  if (problem !== undefined) {
    if (process.env.CI) t.fail(`real PostgreSQL unreachable at ${REAL_DATABASE_URL} (${problem}); CI requires it`)
    return { O11Y_DATA_DIR: 'memory://' }
  }
  const schema = uniqueSchema()
  t.teardown(async () => {
    const client = new pg.Client({ connectionString: REAL_DATABASE_URL, connectionTimeoutMillis: 2000 })
    try {
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    } finally {
      await client.end().catch(() => {})
    }
  })
  return { DATABASE_URL: REAL_DATABASE_URL, DB_SCHEMA: schema, DB_CONNECT_TIMEOUT_MS: '15000' }
}

export interface TestDbOptions {
  connectTimeoutMs?: number
  statementTimeoutMs?: number
  url?: string
}

/** A migrated database in a fresh schema, dropped and closed in teardown. */
export async function testDatabase (t: Test, target: DbTarget, options: TestDbOptions = {}): Promise<Database> {
  const schema = uniqueSchema()
  const db = createDatabase({
    connectionString: options.url ?? target.url,
    schema,
    max: target.poolMax,
    connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    statementTimeoutMs: options.statementTimeoutMs ?? 5000
  })
  t.teardown(async () => {
    await db.close()
    // Dropped through a connection of its own: the app's pool may point at a stopped proxy.
    const admin = new pg.Client({ connectionString: target.url })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  await db.migrate()
  return db
}

/** A TCP port nothing listens on. */
export async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface TcpProxy {
  port: number
  url: string
  /** Refuses new connections and cuts open ones: the database looks down. */
  stop (): Promise<void>
  /** Listens again on the same port. */
  start (): Promise<void>
  close (): Promise<void>
}

/**
 * A TCP proxy in front of a real PostgreSQL, to take "the database" down and bring it back
 * without touching the shared server.
 */
export async function tcpProxy (targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl)
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const start = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname)
      sockets.add(client).add(upstream)
      const drop = (): void => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  }
  const stop = async (): Promise<void> => {
    const s = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await start()
  const url = new URL(targetUrl)
  url.host = `127.0.0.1:${port}`
  return { port, url: url.toString(), stop, start, close: stop }
}

export const sampleOrder = (customerId = 'c-1', currency = 'EUR') => ({
  customerId,
  currency,
  items: [
    { sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 },
    { sku: 'MUG-2', quantity: 1, unitPriceCents: 899 }
  ]
})
