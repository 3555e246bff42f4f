import pg from 'pg'
import { MIGRATIONS, type Migration } from './migrations.js'

export interface DatabaseOptions {
  connectionString: string
  /** Schema holding the tables; created when missing. */
  schema: string
  /** Pool size. The embedded database is given 1 (see embedded.ts). */
  max: number
  /** Bound on opening a connection and on waiting for a free one in the pool. */
  connectTimeoutMs: number
  /** Server-side `statement_timeout` and client-side `query_timeout`. */
  statementTimeoutMs: number
  applicationName?: string
  /** Called with errors of idle pooled connections (the database went away). */
  onIdleError?: (err: Error) => void
}

/**
 * The database could not answer: unreachable, timed out, or failed the statement. Routes answer
 * 503 with a fixed message; the cause (which may name hosts or SQL) goes to the log only.
 */
export class DatabaseError extends Error {
  readonly statusCode = 503
  constructor (cause: unknown) {
    super('database unavailable', { cause })
    this.name = 'DatabaseError'
  }
}

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

export interface Database extends Queryable {
  readonly pool: pg.Pool
  readonly schema: string
  /** `{{schema}}`-free table name, quoted and schema-qualified. */
  table (name: string): string
  query<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
  /** Runs `fn` in one transaction on one connection; rolls back when it throws. */
  transaction<T> (fn: (client: Queryable) => Promise<T>): Promise<T>
  /** `SELECT 1`; throws DatabaseError when the database does not answer. */
  ping (): Promise<void>
  migrate (migrations?: readonly Migration[]): Promise<string[]>
  close (): Promise<void>
}

export function quoteIdent (name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function wrap (err: unknown): never {
  throw err instanceof DatabaseError ? err : new DatabaseError(err)
}

export function createDatabase (options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs,
    idleTimeoutMillis: 10_000,
    application_name: options.applicationName ?? 'order-service'
  })
  // Without a listener an idle connection dropped by the server crashes the process.
  pool.on('error', (err) => options.onIdleError?.(err))

  const schema = quoteIdent(options.schema)
  let closed: Promise<void> | undefined

  const db: Database = {
    pool,
    schema: options.schema,
    table: (name) => `${schema}.${quoteIdent(name)}`,
    async query (text, values) {
      try {
        return await pool.query(text, values)
      } catch (err) {
        return wrap(err)
      }
    },
    async transaction (fn) {
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (err) {
        return wrap(err)
      }
      try {
        await client.query('BEGIN')
        const result = await fn(client)
        await client.query('COMMIT')
        client.release()
        return result
      } catch (err) {
        // A failed ROLLBACK means the connection is broken: destroy it rather than reuse it.
        const rollback = await client.query('ROLLBACK').then(() => undefined, (e: Error) => e)
        client.release(rollback)
        if (err instanceof DatabaseError || isPgError(err) || !(err instanceof Error) || isConnectionError(err)) return wrap(err)
        throw err
      }
    },
    async ping () {
      await db.query('SELECT 1')
    },
    async migrate (migrations = MIGRATIONS) {
      await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await db.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
      return db.transaction(async (client) => {
        // Two instances starting together: the second waits, then finds the migrations applied.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${options.schema}.schema_migrations`])
        const done = new Set((await client.query<{ id: string }>(`SELECT id FROM ${schema}.schema_migrations`)).rows.map((r) => r.id))
        const applied: string[] = []
        for (const migration of migrations) {
          if (done.has(migration.id)) continue
          await client.query(migration.sql.replaceAll('{{schema}}', schema))
          await client.query(`INSERT INTO ${schema}.schema_migrations (id) VALUES ($1)`, [migration.id])
          applied.push(migration.id)
        }
        return applied
      })
    },
    close () {
      closed ??= pool.end()
      return closed
    }
  }
  return db
}

/** An error raised by the server for a statement (it carries a SQLSTATE). */
export function isPgError (err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError
}

const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|Cannot use a pool after calling end/i

function isConnectionError (err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return (typeof code === 'string' && /^E[A-Z]+$/.test(code)) || CONNECTION_MESSAGES.test(err.message)
}
