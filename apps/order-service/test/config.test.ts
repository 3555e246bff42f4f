import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { APP_DIR, DEFAULTS, loadConfig } from '../src/config.js'
import { DEFAULT_DATA_DIR } from '../src/constants.js'
import { ERROR_CODES } from '../src/errors.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.match(c, {
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dbSchema: 'public',
    dbPoolMax: undefined,
    dbConnectTimeoutMs: DEFAULTS.dbConnectTimeoutMs,
    dbStatementTimeoutMs: DEFAULTS.dbStatementTimeoutMs,
    paymentLatencyMs: DEFAULTS.paymentLatencyMs,
    paymentFailureRate: DEFAULTS.paymentFailureRate,
    shutdownGraceMs: DEFAULTS.shutdownGraceMs,
    logLevel: 'info',
    metricsPort: undefined,
    metricsHost: '127.0.0.1',
    metricsToken: undefined,
    metricsTokenSource: undefined,
    metricsMinIntervalMs: 1000
  })
  t.equal(c.dataDir, resolve(APP_DIR, DEFAULT_DATA_DIR), 'the data folder defaults to .o11y-data/pglite in the app folder')
  t.equal(resolve(APP_DIR), resolve(import.meta.dirname, '..'), 'APP_DIR is apps/order-service')
})

t.test('values from the environment', async (t) => {
  const c = loadConfig({
    PORT: '0',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgresql://u:p@db:5432/orders',
    O11Y_DATA_DIR: 'tmp/db',
    DB_SCHEMA: 'orders_v2',
    DB_POOL_MAX: '4',
    DB_CONNECT_TIMEOUT_MS: '250',
    DB_STATEMENT_TIMEOUT_MS: '750',
    PAYMENT_LATENCY_MS: '0',
    PAYMENT_FAILURE_RATE: '0.5',
    SHUTDOWN_GRACE_MS: '100',
    LOG_LEVEL: 'debug',
    METRICS_PORT: '9464',
    METRICS_HOST: '10.0.0.5',
    METRICS_TOKEN: 'a-long-enough-scrape-token',
    METRICS_MIN_INTERVAL_MS: '0'
  })
  t.match(c, { port: 0, host: '0.0.0.0', databaseUrl: 'postgresql://u:p@db:5432/orders', dbSchema: 'orders_v2', dbPoolMax: 4, dbConnectTimeoutMs: 250, dbStatementTimeoutMs: 750, paymentLatencyMs: 0, paymentFailureRate: 0.5, shutdownGraceMs: 100, logLevel: 'debug', metricsPort: 9464, metricsHost: '10.0.0.5', metricsToken: 'a-long-enough-scrape-token', metricsTokenSource: 'env', metricsMinIntervalMs: 0 })
  t.equal(loadConfig({ HOST: '0.0.0.0', METRICS_PORT: '0' }).metricsHost, '0.0.0.0', 'the metrics port listens on HOST unless METRICS_HOST says otherwise')
  t.equal(c.dataDir, resolve('tmp/db'), 'an explicit data folder is relative to the working directory')
  t.equal(loadConfig({ O11Y_DATA_DIR: 'memory://' }).dataDir, 'memory://', 'memory:// keeps the embedded database in memory')
})

t.test('bad values are coded errors naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'http' }, /PORT must be an integer from 0 to 65535 \(got "http"\)/],
    [{ PORT: '70000' }, /PORT must be an integer/],
    [{ METRICS_PORT: 'x' }, /METRICS_PORT must be an integer from 0 to 65535/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 16 printable ASCII characters without spaces \(got "5 characters"\)/],
    [{ METRICS_TOKEN: 'has a space in the middle' }, /METRICS_TOKEN must be/],
    [{ METRICS_MIN_INTERVAL_MS: '-1' }, /METRICS_MIN_INTERVAL_MS must be an integer from 0 to 60000/],
    [{ DB_CONNECT_TIMEOUT_MS: '0' }, /DB_CONNECT_TIMEOUT_MS must be an integer from 1/],
    [{ DB_POOL_MAX: '1.5' }, /DB_POOL_MAX must be an integer from 1 to 100/],
    [{ PAYMENT_FAILURE_RATE: '2' }, /PAYMENT_FAILURE_RATE must be a number from 0 to 1/],
    [{ PAYMENT_FAILURE_RATE: 'often' }, /PAYMENT_FAILURE_RATE must be a number from 0 to 1/],
    [{ DB_SCHEMA: 'Robert"); DROP' }, /DB_SCHEMA must be a lower-case SQL identifier/],
    [{ DATABASE_URL: 'mysql://u:secret@h/db' }, /DATABASE_URL must be a postgres:\/\/ URL \(got "mysql:\/\/u:\*\*\*@h\/db"\)/]
  ]
  for (const [env, message] of bad) {
    t.throws(() => loadConfig(env), { code: ERROR_CODES.config, name: 'OrderServiceError', message }, JSON.stringify(env))
  }
})

t.test('METRICS_TOKEN_FILE: the token is the file\'s content, trimmed, checked like METRICS_TOKEN', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-token-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, content: string): string => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }
  // As `echo ... > file` or an editor writes it: a trailing newline, which is not part of the token.
  const valid = file('valid', 'a-long-enough-scrape-token\n')
  t.match(loadConfig({ METRICS_TOKEN_FILE: valid }), { metricsToken: 'a-long-enough-scrape-token', metricsTokenSource: 'file' })
  t.match(loadConfig({ METRICS_TOKEN_FILE: file('padded', '  \ta-long-enough-scrape-token \r\n\n') }), { metricsToken: 'a-long-enough-scrape-token' }, 'whitespace around the token is trimmed')
  t.match(loadConfig({ METRICS_TOKEN_FILE: '', METRICS_TOKEN: 'a-long-enough-scrape-token' }), { metricsToken: 'a-long-enough-scrape-token', metricsTokenSource: 'env' }, 'an empty METRICS_TOKEN_FILE is unset')

  const bad: Array<[Record<string, string>, RegExp]> = [
    // A named file never means "no auth": empty, short or malformed content stops the start.
    [{ METRICS_TOKEN_FILE: file('empty', '') }, /METRICS_TOKEN_FILE must be a file holding at least 16 printable ASCII characters without spaces \(got "0 characters in .*empty"\)/],
    [{ METRICS_TOKEN_FILE: file('blank', '\n  \n') }, /METRICS_TOKEN_FILE must be a file holding .*"0 characters/],
    [{ METRICS_TOKEN_FILE: file('short', 'short\n') }, /METRICS_TOKEN_FILE must be a file holding at least 16 .*\(got "5 characters in .*short"\)/],
    [{ METRICS_TOKEN_FILE: file('space', 'has a space in the middle\n') }, /METRICS_TOKEN_FILE must be a file holding/],
    [{ METRICS_TOKEN_FILE: file('lines', 'a-long-enough-scrape-token\nsecond-line-of-the-file\n') }, /METRICS_TOKEN_FILE must be a file holding/],
    [{ METRICS_TOKEN_FILE: join(dir, 'missing') }, /METRICS_TOKEN_FILE must name a readable file \(got ".*missing": ENOENT\)/],
    [{ METRICS_TOKEN_FILE: dir }, /METRICS_TOKEN_FILE must name a readable file \(got ".*": EISDIR\)/],
    [{ METRICS_TOKEN_FILE: valid, METRICS_TOKEN: 'a-long-enough-scrape-token' }, /METRICS_TOKEN and METRICS_TOKEN_FILE are both set: set one of them/]
  ]
  for (const [env, message] of bad) {
    t.throws(() => loadConfig(env), { code: ERROR_CODES.config, name: 'OrderServiceError', message }, JSON.stringify(env))
  }
  for (const [env] of bad) {
    const err = (() => { try { loadConfig(env) } catch (e) { return e as Error } })()
    t.notMatch(err?.message ?? '', 'a-long-enough-scrape-token', 'no message carries the token')
  }
})

t.test('a token file that cannot be read stops the service with one coded line, no stack', async (t) => {
  const missing = join(tmpdir(), `o11y-no-such-token-${process.pid}`)
  // Without tap's loaders: the built entry point as a user runs it.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, METRICS_TOKEN_FILE: missing, PORT: '0', O11Y_DATA_DIR: 'memory://' }
  const res = spawnSync(process.execPath, [resolve(APP_DIR, 'dist/server.js')], { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(res.status, 1, `exit code 1\n${res.stderr}`)
  t.equal(res.stderr, `order-service failed to start: ${ERROR_CODES.config} @o11y/order-service: METRICS_TOKEN_FILE must name a readable file (got ${JSON.stringify(missing)}: ENOENT)\n`)
  t.notMatch(res.stderr, /^\s+at /m, 'no stack trace')
})
