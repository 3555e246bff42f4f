/**
 * The start-up scenario's app (startup.ts): a Fastify + pg service as ESM, the module format the
 * `--import` register entries hook. It imports pg and creates a Pool (and runs one query when
 * DATABASE_URL is set), listens, and prints `BENCH_LISTENING <json>` with the milliseconds since
 * the process started (`performance.now()`, whose origin is the process start).
 */
import Fastify from 'fastify'
import pg from 'pg'

const url = process.env.DATABASE_URL
const pool = new pg.Pool({ ...(url !== undefined && url !== '' ? { connectionString: url } : {}), max: 2, connectionTimeoutMillis: 5000 })
const queried = url !== undefined && url !== ''
if (queried) await pool.query('SELECT 1')

const app = Fastify({ logger: false })
app.get('/api/orders/:id', async function getOrder (request) {
  const { rows } = await pool.query('SELECT $1::text AS id', [(request.params as { id: string }).id])
  return rows[0]
})
app.get('/health', async function health () {
  return { status: 'ok' }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const listenMs = performance.now()
process.stdout.write(`BENCH_LISTENING ${JSON.stringify({ listenMs, queried })}\n`)

process.once('SIGTERM', () => {
  void app.close().then(() => pool.end()).finally(() => process.exit(0))
})
