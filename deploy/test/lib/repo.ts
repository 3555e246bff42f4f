import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
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
