import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import YAML from 'yaml'

export const DEPLOY = join(__dirname, '..', '..')
export const REPO = join(DEPLOY, '..')
export const PROMETHEUS_CONFIG = join(DEPLOY, 'prometheus', 'prometheus.yml')
export const RULES_DIR = join(DEPLOY, 'prometheus', 'rules')
export const RULE_TESTS_DIR = join(DEPLOY, 'prometheus', 'tests')
export const ALERTMANAGER_CONFIG = join(DEPLOY, 'alertmanager', 'alertmanager.yml')
export const DASHBOARDS_DIR = join(DEPLOY, 'grafana', 'dashboards')
export const PROVISIONING_DIR = join(DEPLOY, 'grafana', 'provisioning')
export const COMPOSE_FILE = join(DEPLOY, 'compose.yaml')

function list (dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f))
}

/** Every rule file Prometheus loads (`rules/*.yml`), the generated SLO files included. */
export const ruleFiles = (): string[] => list(RULES_DIR, '.yml')
/** Every promtool rule test (`tests/*.test.yml`). */
export const ruleTestFiles = (): string[] => list(RULE_TESTS_DIR, '.test.yml')
/** Every dashboard Grafana provisions (`grafana/dashboards/*.json`). */
export const dashboardFiles = (): string[] => list(DASHBOARDS_DIR, '.json')

export interface Rule {
  file: string
  group: string
  alert?: string
  record?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

export interface RuleGroup {
  name: string
  interval?: string
  rules: Array<Omit<Rule, 'file' | 'group'>>
}

export function readYaml<T> (file: string): T {
  return YAML.parse(readFileSync(file, 'utf8')) as T
}

export function loadRules (): Rule[] {
  return ruleFiles().flatMap((file) =>
    (readYaml<{ groups?: RuleGroup[] }>(file).groups ?? []).flatMap((g) =>
      g.rules.map((r) => ({ ...r, file, group: g.name }))))
}

export const alertRules = (): Rule[] => loadRules().filter((r) => r.alert !== undefined)
export const recordingRules = (): Rule[] => loadRules().filter((r) => r.record !== undefined)

export interface RunResult { status: number | null, stdout: string, stderr: string }

/**
 * Runs a tool to completion. `timeoutMs` only guards against a hang: `promtool test rules` over the
 * SLO rule tests needs 20-25 s of CPU, which beside three other suites on two cores became more
 * than 120 s of wall time.
 */
export function run (cmd: string, args: string[], cwd = DEPLOY, timeoutMs = 120_000): RunResult {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs })
  if (res.error) return { status: null, stdout: '', stderr: `${cmd}: ${res.error.message}` }
  return { status: res.status, stdout: res.stdout, stderr: res.stderr }
}

/** GitHub's heading anchors of a Markdown file. */
export function markdownAnchors (file: string): Set<string> {
  const anchors = new Set<string>()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (!m?.[1]) continue
    anchors.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'))
  }
  return anchors
}

export interface DashboardTarget { expr: string, exemplar?: boolean, instant?: boolean, refId?: string }
export interface DashboardPanel { title?: string, type: string, targets?: DashboardTarget[], panels?: DashboardPanel[], datasource?: { uid?: string, type?: string } }
export interface DashboardVariable {
  name: string
  type: string
  query?: string | { query?: string }
  includeAll?: boolean
  allValue?: string
  current?: { value?: string | string[] }
  options?: Array<{ value: string }>
  datasource?: { uid?: string, type?: string }
}
export interface DashboardJson {
  uid: string
  title: string
  panels: DashboardPanel[]
  templating?: { list?: DashboardVariable[] }
}

/** Every panel, the ones inside collapsed rows too. */
export function allPanels (dashboard: DashboardJson): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
}

/** The compose secret both the order service and Prometheus read: the bearer token of the metrics port. */
export const METRICS_TOKEN_SECRET = 'metrics-token'
/** Where compose mounts a service's secrets (the short syntax). */
export const SECRETS_DIR = '/run/secrets'
/** What the order service accepts as a token (apps/order-service/src/config.ts). */
export const TOKEN_FORM = /^[\x21-\x7e]{16,}$/

/** A compose value as compose reads it with nothing set in the environment: `${VAR:-default}` gives the default. */
export function composeDefault (value: string): string {
  return value.replace(/\$\{[A-Za-z_]\w*(?::?-([^}]*))?\}/g, (_, fallback?: string) => fallback ?? '')
}

/** The secrets a compose service mounts: container path -> secret name (short and long syntax). */
export function secretMounts (service: { secrets?: Array<string | { source: string, target?: string }> }): Map<string, string> {
  const mounts = new Map<string, string>()
  for (const s of service.secrets ?? []) {
    const source = typeof s === 'string' ? s : s.source
    const target = typeof s === 'string' ? s : s.target ?? s.source
    mounts.set(target.startsWith('/') ? target : `${SECRETS_DIR}/${target}`, source)
  }
  return mounts
}

/** The host file of a file-based compose secret, resolved as compose does without the environment (relative to deploy/). */
export function composeSecretFile (compose: { secrets?: Record<string, { file?: string }> }, name: string): string {
  const file = compose.secrets?.[name]?.file
  if (file === undefined) throw new Error(`compose declares no file-based secret ${name}`)
  return resolve(DEPLOY, composeDefault(file))
}

/**
 * A copy of a Prometheus config in `dir` for `promtool check config`, which opens every credentials
 * file: each `credentials_file` under /run/secrets is pointed at the file of the compose secret
 * mounted there, and the rules sit beside it as compose mounts them (/etc/prometheus/rules).
 */
export function promtoolCopy (configFile: string, dir: string): { file: string, rewritten: string[] } {
  const config = readYaml<{ scrape_configs?: Array<{ job_name: string, authorization?: { credentials_file?: string } }> }>(configFile)
  const compose = readYaml<{ secrets?: Record<string, { file?: string }> }>(COMPOSE_FILE)
  const rewritten: string[] = []
  for (const job of config.scrape_configs ?? []) {
    const path = job.authorization?.credentials_file
    if (path === undefined || !path.startsWith(`${SECRETS_DIR}/`)) continue
    job.authorization = { ...job.authorization, credentials_file: composeSecretFile(compose, path.slice(SECRETS_DIR.length + 1)) }
    rewritten.push(job.job_name)
  }
  const file = join(dir, 'prometheus.yml')
  writeFileSync(file, YAML.stringify(config))
  symlinkSync(RULES_DIR, join(dir, 'rules'))
  return { file, rewritten }
}

/**
 * A scrape job of a shipped config as a test runs it: its bearer token read from `file` (a token
 * the test wrote) instead of the compose secret. A job without a credentials file is an error: the
 * test would prove nothing about the protection the stack is meant to have.
 */
export function withCredentialsFile<T extends { job_name: string, authorization?: { credentials_file?: string } }> (job: T, file: string): T {
  if (typeof job.authorization?.credentials_file !== 'string') throw new Error(`scrape job ${job.job_name} has no authorization.credentials_file`)
  return { ...job, authorization: { ...job.authorization, credentials_file: file } }
}
