import { resolve } from 'node:path'
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
  t.match(c, { port: 0, host: '0.0.0.0', databaseUrl: 'postgresql://u:p@db:5432/orders', dbSchema: 'orders_v2', dbPoolMax: 4, dbConnectTimeoutMs: 250, dbStatementTimeoutMs: 750, paymentLatencyMs: 0, paymentFailureRate: 0.5, shutdownGraceMs: 100, logLevel: 'debug', metricsPort: 9464, metricsHost: '10.0.0.5', metricsToken: 'a-long-enough-scrape-token', metricsMinIntervalMs: 0 })
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
