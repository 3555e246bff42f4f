import t from 'tap'
import Fastify from 'fastify'
import { Client } from 'pg'
import { createLogger, DEFAULT_CENSOR, DEFAULT_MAX_LINE_BYTES, fastifyLoggerOptions, o11yLogging, TRUNCATION_MARKER } from '../src/index'
import type { LoggerOptions } from '../src/index'
import { capture, isCanonicalJson, SECRET_NAMES, useTracing } from './helpers'

const SECRET = 'S3CR3T-value-42'

/** Logs through a fresh logger and returns the raw lines and the parsed ones. */
function logged (options: LoggerOptions, write: (log: ReturnType<typeof createLogger>) => void): { raw: string[], lines: Array<Record<string, any>> } {
  const out = capture()
  write(createLogger({ ...options, destination: out }))
  const raw = out.text().split('\n').slice(0, -1)
  return { raw, lines: out.lines() }
}

t.test('every secret name sent as a request header is redacted when the handler logs the headers', async (t) => {
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ destination: out }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging)
  app.get('/echo', async (request) => {
    request.log.info({ headers: request.headers, upstream: { request: { headers: { ...request.headers } } } }, 'incoming headers')
    return 'ok'
  })
  const headers: Record<string, string> = { accept: 'text/plain' }
  for (const name of SECRET_NAMES) headers[name] = `${SECRET}-${name}`
  const response = await app.inject({ url: '/echo', headers })
  t.equal(response.statusCode, 200)
  t.notOk(out.text().includes(SECRET), 'no secret value in any line')
  const line = out.lines().find((l) => l.message === 'incoming headers')!
  for (const name of SECRET_NAMES) {
    const key = name.toLowerCase() // Node lower-cases incoming header names
    t.equal(line.headers[key], DEFAULT_CENSOR, `header ${name}`)
    t.equal(line.upstream.request.headers[key], DEFAULT_CENSOR, `header ${name} nested`)
  }
  t.equal(line.headers.accept, 'text/plain', 'other headers are kept')
})

t.test('line size cap', async (t) => {
  t.equal(DEFAULT_MAX_LINE_BYTES, 32 * 1024)

  t.test('a 100 KB field yields a line of at most 32 KB, still JSON, with the marker and the original size', async (t) => {
    const tracer = useTracing(t)
    const { raw, lines } = logged({}, (log) => {
      tracer.startActiveSpan('op', (span) => {
        log.info({ order_id: 42, body: 'b'.repeat(100 * 1024), tail: 'kept' }, 'big body')
        span.end()
      })
    })
    const bytes = Buffer.byteLength(raw[0]! + '\n')
    t.comment(`a 100 KB field: line of ${bytes} bytes (cap ${DEFAULT_MAX_LINE_BYTES}), truncated from ${lines[0]!.truncated} bytes`)
    t.ok(bytes <= 32 * 1024, `${bytes} bytes`)
    t.ok(bytes > 30 * 1024, 'the cap is used, not far undershot')
    const line = lines[0]!
    t.ok(line.body.endsWith(TRUNCATION_MARKER), 'the shortened value ends with the marker')
    t.ok(line.truncated > 100 * 1024, 'truncated: the size before')
    t.same([line.order_id, line.tail, line.message, line.level, line.logger], [42, 'kept', 'big body', 'INFO', 'app'])
    t.match(line.trace_id, /^[0-9a-f]{32}$/, 'the trace context survives')
    t.ok(isCanonicalJson(raw[0]!))
  })

  t.test('multi-byte text, several big fields, a huge message, a long array: each line fits', async (t) => {
    const cases: Array<[string, (log: ReturnType<typeof createLogger>) => void]> = [
      ['3-byte characters', (log) => log.info({ text: '€'.repeat(60_000) }, 'euro')],
      ['surrogate pairs', (log) => log.info({ text: '😀'.repeat(40_000) }, 'emoji')],
      ['control characters (6 bytes escaped)', (log) => log.info({ text: '\u0001'.repeat(40_000) }, 'ctl')],
      ['line separators (escaped after the cut)', (log) => log.info({ text: '\u2028'.repeat(40_000) }, 'sep')],
      ['several big fields', (log) => log.info({ a: 'a'.repeat(20_000), b: { c: 'c'.repeat(20_000) }, d: ['d'.repeat(20_000)] }, 'many')],
      ['huge message', (log) => log.info('m'.repeat(200_000))],
      ['long array of numbers', (log) => log.info({ ids: Array.from({ length: 20_000 }, (_, i) => i) }, 'ids')],
      ['many small keys', (log) => log.info(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i])), 'keys')],
      ['child bindings too big to keep', (log) => log.child({ logger: 'n'.repeat(40_000) }).info({ extra: 1 }, 'named')]
    ]
    for (const [name, write] of cases) {
      const { raw, lines } = logged({}, write)
      const bytes = Buffer.byteLength(raw[0]! + '\n')
      t.ok(bytes <= DEFAULT_MAX_LINE_BYTES, `${name}: ${bytes} bytes`)
      t.ok(lines[0]!.truncated > DEFAULT_MAX_LINE_BYTES, `${name}: marked`)
      t.ok(raw[0]!.includes(TRUNCATION_MARKER), `${name}: marker present`)
      t.notOk(/[\u2028\u2029\u0085]/.test(raw[0]!), `${name}: no raw line separator`)
      t.equal(lines.length, 1)
    }
  })

  t.test('maxLineBytes is configurable; lines under it are untouched', async (t) => {
    const { raw, lines } = logged({ maxLineBytes: 4096 }, (log) => {
      log.info({ note: 'n'.repeat(5000) }, 'over')
      log.info({ note: 'n'.repeat(3000) }, 'under')
    })
    t.ok(Buffer.byteLength(raw[0]! + '\n') <= 4096)
    t.equal(lines[1]!.note, 'n'.repeat(3000))
    t.notOk('truncated' in lines[1]!)
  })

  t.test('a caller field named truncated cannot pose as the marker', async (t) => {
    const { lines } = logged({}, (log) => log.info({ truncated: 7 }, 'mine'))
    t.same([lines[0]!._truncated, 'truncated' in lines[0]!], [7, false])
  })

  t.test('through Fastify: a 100 KB request body logged by a handler', async (t) => {
    const out = capture()
    const app = Fastify({ ...fastifyLoggerOptions({ destination: out }), bodyLimit: 1024 * 1024 })
    t.teardown(() => app.close())
    await app.register(o11yLogging)
    app.post('/upload', async (request) => { request.log.info({ body: request.body }, 'received'); return 'ok' })
    await app.inject({ method: 'POST', url: '/upload', payload: { data: 'x'.repeat(100 * 1024), token: SECRET } })
    const raw = out.text().split('\n').slice(0, -1)
    t.notOk(out.text().includes(SECRET))
    for (const line of raw) t.ok(Buffer.byteLength(line) < 32 * 1024, `line of ${Buffer.byteLength(line)} bytes`)
    const received = out.lines().find((l) => l.message === 'received')!
    t.equal(received.body.token, DEFAULT_CENSOR, 'redaction happened before the cap')
    t.ok(received.body.data.endsWith(TRUNCATION_MARKER))
  })
})

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Real errors from PostgreSQL: a value quoted in the message, and a value in `detail`. */
async function pgErrors (t: tap.Test): Promise<{ syntax: Error, unique: Error } | null> {
  const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (error) {
    if (process.env.CI !== undefined) throw error
    t.comment(`no PostgreSQL at ${DATABASE_URL} (${(error as Error).message}): database error tests skipped; set DATABASE_URL`)
    return null
  }
  t.teardown(() => client.end())
  const syntax = await client.query('SELECT $1::int AS n', [SECRET]).then(() => null, (error: Error) => error)
  await client.query('CREATE TEMP TABLE o11y_logging_users (email text UNIQUE)')
  await client.query('INSERT INTO o11y_logging_users VALUES ($1)', [SECRET])
  const unique = await client.query('INSERT INTO o11y_logging_users VALUES ($1)', [SECRET]).then(() => null, (error: Error) => error)
  if (syntax === null || unique === null) throw new Error('PostgreSQL accepted the bad queries')
  return { syntax, unique }
}

t.test('database errors: a real pg error quoting a value leaves the value in no log line', async (t) => {
  const errors = await pgErrors(t)
  if (errors === null) return
  const { syntax, unique } = errors
  t.ok(syntax.message.includes(SECRET), `the driver's message quotes the value: ${syntax.message}`)
  t.ok(JSON.stringify(unique).includes(SECRET), 'the unique violation carries the value in detail')

  const { raw, lines } = logged({}, (log) => {
    log.error(syntax)
    log.error({ err: syntax })
    log.error({ err: syntax }, 'query failed')
    log.error(new Error('loading the order failed', { cause: syntax }))
    log.warn({ context: { attempt: 2, dbError: unique } }, 'retrying')
    log.error({ err: unique }, 'insert failed')
  })
  t.notOk(raw.join('\n').includes(SECRET), 'the value is in no line')
  t.notOk(raw.join('\n').includes('invalid input syntax'), "the driver's text is in no line")
  const [bare, objectOnly, withMessage, wrapped, nested, constraint] = lines
  for (const line of [bare!, objectOnly!, withMessage!]) {
    t.same([line.err.type, line.err.code, line.err.severity, line.err.message], ['DatabaseError', '22P02', 'ERROR', 'database error 22P02 (data_exception)'])
    t.match(line.err.stack, /^error: database error 22P02 \(data_exception\)\n {4}at /, 'the stack keeps its frames under the generic message')
    t.notOk('where' in line.err || 'detail' in line.err, 'where and detail are dropped')
  }
  t.equal(bare!.message, 'database error 22P02 (data_exception)', 'log.error(err): the message is the generic one')
  t.equal(objectOnly!.message, 'database error 22P02 (data_exception)')
  t.equal(withMessage!.message, 'query failed')
  t.match(wrapped!.err.message, /^loading the order failed: database error 22P02/, 'a wrapping error keeps its own message; its cause is reduced')
  t.match(wrapped!.err.stack, /caused by: error: database error 22P02/)
  t.same([nested!.context.dbError.code, nested!.context.dbError.constraint, nested!.context.dbError.table], ['23505', 'o11y_logging_users_email_key', 'o11y_logging_users'])
  t.equal(constraint!.err.message, 'database error 23505 (integrity_constraint_violation)')
  t.equal(constraint!.err.constraint, 'o11y_logging_users_email_key', 'identifiers are kept')

  const detailed = logged({ dbErrorDetail: true }, (log) => {
    log.error(syntax)
    log.error({ err: unique }, 'insert failed')
  })
  t.match(detailed.lines[0]!.message, /invalid input syntax for type integer: "S3CR3T-value-42"/, 'dbErrorDetail: true writes the full text')
  t.match(detailed.lines[1]!.err.detail, /already exists/)
})

t.test('database errors: the request line of a handler that failed on a pg error', async (t) => {
  const errors = await pgErrors(t)
  if (errors === null) return
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ destination: out }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging)
  app.get('/orders/:id', async () => { throw errors.syntax })
  const response = await app.inject('/orders/abc')
  t.equal(response.statusCode, 500)
  t.notOk(out.text().includes(SECRET))
  const line = out.lines().find((l) => l.message === 'request completed')!
  t.same([line.level, line.err.code, line.err.message], ['ERROR', '22P02', 'database error 22P02 (data_exception)'])
})

t.test('database errors of other drivers (shapes of mysql2 and better-sqlite3 errors)', async (t) => {
  const mysql = Object.assign(new Error(`Duplicate entry '${SECRET}' for key 'users.email'`), {
    code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000', sqlMessage: `Duplicate entry '${SECRET}' for key 'users.email'`, sql: `INSERT INTO users VALUES ('${SECRET}')`
  })
  class SqliteError extends Error { code = 'SQLITE_CONSTRAINT_UNIQUE' }
  const sqlite = new SqliteError(`UNIQUE constraint failed: users.email (${SECRET})`)
  const { raw, lines } = logged({}, (log) => { log.error(mysql); log.error({ err: sqlite }, 'insert failed') })
  t.notOk(raw.join('\n').includes(SECRET))
  t.same([lines[0]!.err.code, lines[0]!.err.errno, lines[0]!.err.sqlState, lines[0]!.message], ['ER_DUP_ENTRY', 1062, '23000', 'database error 23000 (integrity_constraint_violation)'])
  t.same([lines[1]!.err.type, lines[1]!.err.code, lines[1]!.err.message], ['SqliteError', 'SQLITE_CONSTRAINT_UNIQUE', 'database error SQLITE_CONSTRAINT_UNIQUE'])
  const plain = logged({}, (log) => log.error(Object.assign(new Error('not a database error'), { code: 'ECONNREFUSED' })))
  t.equal(plain.lines[0]!.message, 'not a database error', 'other errors keep their message')
})
