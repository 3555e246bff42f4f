import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LEVELS, type Level } from '@o11y/logging'
import { DEFAULT_DATA_DIR, ENV } from './constants.js'
import { configError, ERROR_CODES, OrderServiceError } from './errors.js'

export interface ServiceConfig {
  port: number
  host: string
  /** Real PostgreSQL; when absent an embedded PGlite is started. */
  databaseUrl: string | undefined
  dataDir: string
  dbSchema: string
  dbPoolMax: number | undefined
  dbConnectTimeoutMs: number
  dbStatementTimeoutMs: number
  paymentLatencyMs: number
  paymentFailureRate: number
  shutdownGraceMs: number
  logLevel: Level
  /** Serve /metrics on its own port (0: any free one); undefined: on the app's port. */
  metricsPort: number | undefined
  /** Interface of the metrics port; defaults to HOST. */
  metricsHost: string
  /** Bearer token the scraper must send (METRICS_TOKEN, or read from METRICS_TOKEN_FILE); undefined: no auth. */
  metricsToken: string | undefined
  /** Where the token was read from, for the banner: the variable (`env`) or the file (`file`). */
  metricsTokenSource: 'env' | 'file' | undefined
  /** Scrapes within this long of the last render get that render (see @o11y/metrics). */
  metricsMinIntervalMs: number
}

export const DEFAULTS = {
  port: 3000,
  host: '127.0.0.1',
  dbSchema: 'public',
  dbConnectTimeoutMs: 2000,
  dbStatementTimeoutMs: 5000,
  paymentLatencyMs: 120,
  paymentFailureRate: 0.1,
  shutdownGraceMs: 10000,
  logLevel: 'info' as Level,
  metricsMinIntervalMs: 1000
} as const

/** The app folder (apps/order-service), whether running from src/ or dist/. */
export const APP_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..')

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) throw configError(name, `an integer from ${min} to ${max}`, raw)
  return value
}

function ratio (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || value > 1) throw configError(name, 'a number from 0 to 1', raw)
  return value
}

// An explicit O11Y_DATA_DIR is relative to the working directory, the default to the app folder.
function dataDir (raw: string | undefined): string {
  if (!raw) return resolve(APP_DIR, DEFAULT_DATA_DIR)
  return raw.startsWith('memory://') ? raw : resolve(raw)
}

// A bearer token goes into an HTTP header: printable ASCII without spaces, and long enough to guess badly.
const TOKEN = /^[\x21-\x7e]{16,}$/
const TOKEN_FORM = 'at least 16 printable ASCII characters without spaces'

/**
 * The scrape token from METRICS_TOKEN or from the file METRICS_TOKEN_FILE names (one secret file
 * shared with Prometheus' `credentials_file`; the trailing newline an editor adds is trimmed).
 * A file that is named but unreadable or empty stops the start: it never means "no auth".
 */
function metricsTokenFrom (env: NodeJS.ProcessEnv): { token: string | undefined, source: 'env' | 'file' | undefined } {
  const inline = env[ENV.metricsToken] || undefined
  const file = env[ENV.metricsTokenFile] || undefined
  if (inline !== undefined && file !== undefined) {
    throw new OrderServiceError(ERROR_CODES.config, `${ENV.metricsToken} and ${ENV.metricsTokenFile} are both set: set one of them`)
  }
  if (file === undefined) {
    if (inline !== undefined && !TOKEN.test(inline)) throw configError(ENV.metricsToken, TOKEN_FORM, `${inline.length} characters`)
    return { token: inline, source: inline === undefined ? undefined : 'env' }
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new OrderServiceError(ERROR_CODES.config, `${ENV.metricsTokenFile} must name a readable file (got ${JSON.stringify(file)}: ${reason})`, { cause: err })
  }
  const token = text.trim()
  if (!TOKEN.test(token)) throw configError(ENV.metricsTokenFile, `a file holding ${TOKEN_FORM}`, `${token.length} characters in ${file}`)
  return { token, source: 'file' }
}

/** Reads and validates the environment once, at start-up. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const databaseUrl = env[ENV.databaseUrl] || undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw configError(ENV.databaseUrl, 'a postgres:// URL', databaseUrl.replace(/:[^:@/]*@/, ':***@'))
  }
  const dbSchema = env[ENV.dbSchema] || DEFAULTS.dbSchema
  if (!IDENTIFIER.test(dbSchema)) throw configError(ENV.dbSchema, 'a lower-case SQL identifier', dbSchema)
  const logLevel = (env[ENV.logLevel] || DEFAULTS.logLevel) as Level
  if (!LEVELS.includes(logLevel)) throw configError(ENV.logLevel, `one of ${LEVELS.join(', ')}`, logLevel)
  const poolMax = env[ENV.dbPoolMax]
  const metricsPort = env[ENV.metricsPort]
  const { token: metricsToken, source: metricsTokenSource } = metricsTokenFrom(env)
  const host = env[ENV.host] || DEFAULTS.host
  return {
    port: integer(env, ENV.port, DEFAULTS.port, 0, 65535),
    host,
    databaseUrl,
    dataDir: dataDir(env[ENV.dataDir]),
    dbSchema,
    dbPoolMax: poolMax === undefined || poolMax === '' ? undefined : integer(env, ENV.dbPoolMax, 10, 1, 100),
    dbConnectTimeoutMs: integer(env, ENV.dbConnectTimeout, DEFAULTS.dbConnectTimeoutMs, 1, 600000),
    dbStatementTimeoutMs: integer(env, ENV.dbStatementTimeout, DEFAULTS.dbStatementTimeoutMs, 1, 600000),
    paymentLatencyMs: integer(env, ENV.paymentLatency, DEFAULTS.paymentLatencyMs, 0, 60000),
    paymentFailureRate: ratio(env, ENV.paymentFailureRate, DEFAULTS.paymentFailureRate),
    shutdownGraceMs: integer(env, ENV.shutdownGrace, DEFAULTS.shutdownGraceMs, 0, 600000),
    logLevel,
    metricsPort: metricsPort === undefined || metricsPort === '' ? undefined : integer(env, ENV.metricsPort, 0, 0, 65535),
    metricsHost: env[ENV.metricsHost] || host,
    metricsToken,
    metricsTokenSource,
    metricsMinIntervalMs: integer(env, ENV.metricsMinInterval, DEFAULTS.metricsMinIntervalMs, 0, 60000)
  }
}
