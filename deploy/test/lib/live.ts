import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import YAML from 'yaml'
import { startProcess as startManaged, type ManagedProcess, type PrometheusHandle } from '@o11y/test-utils'
import { PROMETHEUS_CONFIG, PROVISIONING_DIR, REPO, readYaml, withCredentialsFile, type DashboardJson, type DashboardVariable, type RuleGroup } from './repo'

export const SERVICE_DIR = join(REPO, 'apps', 'order-service')
export const SERVICE_ENTRY = join(SERVICE_DIR, 'dist', 'server.js')
export const LOADGEN_ENTRY = join(SERVICE_DIR, 'dist', 'loadgen.js')

/** Environment for child Node processes: none of tap's loaders, coverage or test settings. */
export function childEnv (extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE' || k === 'NODE_PATH' || k.startsWith('TAP') || k.startsWith('_TAPJS_') || k.startsWith('TS_NODE_')) continue
    if (k === 'DATABASE_URL' || k.startsWith('OTEL_') || k.startsWith('PG')) continue
    env[k] = v
  }
  return { ...env, ...extra }
}

export type { ManagedProcess }

/** Runs `node <args>` as a user would: without tap's loader, which tap's process tracker puts back into NODE_OPTIONS. */
export function startProcess (args: string[], cwd: string, env: NodeJS.ProcessEnv): ManagedProcess {
  // `env -u` then execs node, keeping the pid.
  return startManaged('env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { cwd, env, killAfterMs: 10_000, maxOutput: 400_000 })
}

/**
 * The repository's scrape config for the order service, pointed at a local target (the service's
 * metrics port) with 1 s intervals, its bearer token read from `credentialsFile` instead of the
 * compose secret, alerts to a local Alertmanager. The rule files are passed separately.
 */
export function prometheusTestConfig (target: string, alertmanager: string, credentialsFile: string): string {
  const config = YAML.parse(readFileSync(PROMETHEUS_CONFIG, 'utf8'))
  const shipped = config.scrape_configs.find((s: { job_name: string }) => s.job_name === 'order-service')
  if (!shipped) throw new Error('prometheus.yml has no order-service job')
  const job = withCredentialsFile(shipped, credentialsFile)
  job.static_configs = job.static_configs.map((sc: { labels?: Record<string, string> }) => ({ ...sc, targets: [target] }))
  job.scrape_interval = '1s'
  job.scrape_timeout = '1s'
  return YAML.stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: [job]
  })
}

/**
 * Test copies of rule files: every group evaluated each second, and ServiceDown's `for` shortened
 * so that the test sees it fire within seconds. Expressions are untouched.
 */
export function writeTestRuleFiles (files: string[], dir: string): string[] {
  return files.map((file) => {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }
    for (const group of doc.groups ?? []) {
      group.interval = '1s'
      for (const rule of group.rules) if (rule.alert === 'ServiceDown') rule.for = '2s'
    }
    const out = join(dir, basename(file))
    writeFileSync(out, YAML.stringify(doc))
    return out
  })
}

/** Grafana's built-in variables, with the values a 5-minute dashboard over 1 s scrapes would get. */
export const BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000'
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function substitute (expr: string, values: Record<string, string>): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length)
  let out = expr
  for (const name of names) {
    const value = values[name] as string
    out = out
      .split(`[[${name}]]`).join(value)
      .replace(new RegExp(`\\$\\{${escapeRegex(name)}(?::[a-z]+)?\\}`, 'g'), () => value)
      .replace(new RegExp(`\\$${escapeRegex(name)}(?![A-Za-z0-9_])`, 'g'), () => value)
  }
  return out
}

export function unresolved (expr: string): string[] {
  return [...expr.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]/g)].map((m) => m[1] ?? m[2] ?? '')
}

/**
 * Resolves a dashboard's variables the way Grafana does with its defaults: query variables run
 * their `label_values(...)` query against Prometheus; "All" (the default here) becomes the
 * variable's allValue or the regex alternation of every value.
 */
export async function resolveVariables (dashboard: DashboardJson, prom: PrometheusHandle): Promise<{ values: Record<string, string>, problems: string[] }> {
  const values: Record<string, string> = { ...BUILTINS }
  const problems: string[] = []
  for (const v of dashboard.templating?.list ?? []) {
    const options = await variableOptions(v, values, prom).catch((err: Error) => {
      problems.push(`variable ${v.name}: ${err.message}`)
      return []
    })
    const current = v.current?.value
    const currentList = Array.isArray(current) ? current : current === undefined ? [] : [current]
    const wantsAll = currentList.includes('$__all') || (currentList.length === 0 && v.includeAll === true)
    if (wantsAll) {
      if (v.allValue) values[v.name] = v.allValue
      else if (options.length > 0) values[v.name] = `(${options.map(escapeRegex).join('|')})`
    } else if (currentList.length > 0 && !currentList.some((c) => c.includes('$'))) {
      values[v.name] = currentList.length === 1 ? currentList[0] as string : `(${currentList.map(escapeRegex).join('|')})`
    } else if (options.length > 0) {
      values[v.name] = options[0] as string
    }
    if (v.type === 'query' && options.length === 0) problems.push(`variable ${v.name}: its query returned no values`)
    if (values[v.name] === undefined) problems.push(`variable ${v.name}: no value to substitute`)
  }
  return { values, problems }
}

async function variableOptions (v: DashboardVariable, values: Record<string, string>, prom: PrometheusHandle): Promise<string[]> {
  if (v.type === 'query') {
    const raw = typeof v.query === 'string' ? v.query : v.query?.query ?? ''
    const q = substitute(raw, values)
    let m = /^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q)
    if (m?.[1] && m[2]) return await labelValues(prom, `count by (${m[2]}) (${m[1]})`, m[2])
    m = /^\s*label_values\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q)
    if (m?.[1]) return await labelValues(prom, `count by (${m[1]}) ({${m[1]}!=""})`, m[1])
    m = /^\s*query_result\((.+)\)\s*$/.exec(q)
    if (m?.[1]) {
      const res = await prom.query(m[1])
      return (res.result as Array<{ metric: Record<string, string> }>).map((s) => JSON.stringify(s.metric))
    }
    throw new Error(`unsupported variable query ${q}`)
  }
  if (v.type === 'datasource') {
    // The provisioned data sources of that plugin type (Grafana offers their names and uids).
    const provisioned = readYaml<{ datasources: Array<{ uid: string, type: string }> }>(join(PROVISIONING_DIR, 'datasources', 'datasources.yml')).datasources
    return provisioned.filter((d) => d.type === v.query).map((d) => d.uid)
  }
  if (v.type === 'custom' && typeof v.query === 'string') return v.query.split(',').map((s) => s.trim()).filter(Boolean)
  if (v.type === 'constant' && typeof v.query === 'string') return [v.query]
  return (v.options ?? []).map((o) => o.value)
}

async function labelValues (prom: PrometheusHandle, expr: string, label: string): Promise<string[]> {
  const now = Date.now() / 1000
  const res = await prom.queryRange(expr, now - 300, now, 5)
  return [...new Set((res.result as Array<{ metric: Record<string, string> }>).map((s) => s.metric[label] ?? ''))].filter(Boolean).sort()
}

export function buildExists (): boolean {
  return existsSync(SERVICE_ENTRY) && existsSync(LOADGEN_ENTRY) &&
    existsSync(join(REPO, 'packages', 'tracing', 'dist')) && existsSync(join(REPO, 'packages', 'metrics', 'dist'))
}

/**
 * A scrape token of this test run in `dir/metrics-token`, as compose's secret file holds it (with
 * a trailing newline): the service reads it through METRICS_TOKEN_FILE, Prometheus through the
 * job's credentials_file.
 */
export function writeTokenFile (dir: string): { token: string, file: string } {
  const token = randomBytes(24).toString('hex')
  const file = join(dir, 'metrics-token')
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  return { token, file }
}

export interface MetricsProtection {
  /** Status of /metrics on the metrics port without a token, and its WWW-Authenticate header. */
  anonymous: number
  challenge: string | null
  /** Status of /metrics on the metrics port with a wrong token. */
  wrongToken: number
  /** Status of /metrics on the app port, the right token sent. */
  appPort: number
  /** Status of /metrics on the metrics port with the token. */
  withToken: number
}

/** What clients see of /metrics: on the metrics port without, with a wrong and with the right token; on the app port. */
export async function metricsProtection (appUrl: string, metricsUrl: string, token: string): Promise<MetricsProtection> {
  const get = async (url: string, bearer?: string): Promise<Response> => {
    const res = await fetch(url, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(30_000) })
    await res.arrayBuffer()
    return res
  }
  const anonymous = await get(`${metricsUrl}/metrics`)
  return {
    anonymous: anonymous.status,
    challenge: anonymous.headers.get('www-authenticate'),
    wrongToken: (await get(`${metricsUrl}/metrics`, `${token}x`)).status,
    appPort: (await get(`${appUrl}/metrics`, token)).status,
    withToken: (await get(`${metricsUrl}/metrics`, token)).status
  }
}
