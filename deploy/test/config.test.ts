import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, isAbsolute, join, resolve } from 'node:path'
import YAML from 'yaml'
import { requireTool } from '@o11y/test-utils'
import { LOG_FIELD, REQUEST_LINE_MESSAGE } from '../src/index'
import { logqlProblems } from './lib/logql'
import {
  ALERTMANAGER_CONFIG, COMPOSE_FILE, DEPLOY, METRICS_TOKEN_SECRET, PROMETHEUS_CONFIG, PROVISIONING_DIR, REPO, SECRETS_DIR, TOKEN_FORM,
  alertRules, composeDefault, composeSecretFile, dashboardFiles, loadRules, markdownAnchors, promtoolCopy, readYaml, ruleFiles, run,
  secretMounts, allPanels, type DashboardJson
} from './lib/repo'

t.test('promtool check config accepts prometheus.yml and the rule files it loads', requireTool('promtool'), async (t) => {
  // promtool opens the scrape token file: a copy reads the compose secret's file from this
  // repository instead of /run/secrets, with the rules beside it as compose mounts them.
  const dir = mkdtempSync(join(tmpdir(), 'o11y-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const copy = promtoolCopy(PROMETHEUS_CONFIG, dir)
  t.same(copy.rewritten, ['order-service'], 'the order-service job reads its token from a compose secret')
  const res = run('promtool', ['check', 'config', copy.file])
  t.equal(res.status, 0, res.stdout + res.stderr)
  // rule_files is the glob rules/*.yml: every file of the folder is loaded.
  const files = ruleFiles()
  t.match(res.stdout, `SUCCESS: ${files.length} rule files found`)
  for (const file of files) t.match(res.stdout, `Checking ${join(dir, 'rules', basename(file))}`)
})

t.test('promtool check config fails when the token file is missing (why the check runs on a copy)', requireTool('promtool'), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { file } = promtoolCopy(PROMETHEUS_CONFIG, dir)
  const missing = join(dir, 'no-such-token')
  writeFileSync(file, readFileSync(file, 'utf8').replace(composeSecretFile(readYaml(COMPOSE_FILE), METRICS_TOKEN_SECRET), missing))
  const res = run('promtool', ['check', 'config', file])
  t.not(res.status, 0)
  t.match(res.stdout + res.stderr, missing)
})

t.test('promtool check rules accepts every rule file', requireTool('promtool'), async (t) => {
  const files = ruleFiles()
  t.ok(files.length >= 2, 'recording and alerting rules exist')
  const res = run('promtool', ['check', 'rules', ...files])
  t.equal(res.status, 0, res.stdout + res.stderr)
  t.notMatch(res.stdout + res.stderr, /FAILED/)
})

t.test('promtool check rules rejects a broken expression (the check can fail)', requireTool('promtool'), async (t) => {
  const res = run('promtool', ['check', 'rules', join(__dirname, 'fixtures', 'broken-rules.yml')])
  t.not(res.status, 0)
  t.match(res.stdout + res.stderr, /parse error/)
})

t.test('amtool check-config accepts alertmanager.yml', requireTool('amtool'), async (t) => {
  const res = run('amtool', ['check-config', ALERTMANAGER_CONFIG])
  t.equal(res.status, 0, res.stdout + res.stderr)
  t.match(res.stdout, /SUCCESS/)
  t.match(res.stdout, /2 inhibit rules/)
})

t.test('prometheus.yml scrapes the service, Prometheus and Alertmanager with a service label', async (t) => {
  const config = readYaml<any>(PROMETHEUS_CONFIG)
  t.same(config.rule_files, ['rules/*.yml'])
  t.same(config.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093'])
  const jobs = Object.fromEntries(config.scrape_configs.map((s: any) => [s.job_name, s]))
  t.same(Object.keys(jobs).sort(), ['alertmanager', 'order-service', 'prometheus'])
  t.equal(jobs['order-service'].static_configs[0].labels.service, 'order-service')
  for (const job of Object.values<any>(jobs)) {
    for (const sc of job.static_configs) t.ok(sc.labels?.service, `${job.job_name} targets carry a service label`)
  }
})

t.test('the order service is scraped on its own metrics port with the token of a compose secret, never on the app port', async (t) => {
  const compose = readYaml<any>(COMPOSE_FILE)
  const service = compose.services['order-service']
  const prometheus = compose.services.prometheus
  const env = service.environment as Record<string, string>
  const job = readYaml<any>(PROMETHEUS_CONFIG).scrape_configs.find((s: any) => s.job_name === 'order-service')
  const tokenPath = `${SECRETS_DIR}/${METRICS_TOKEN_SECRET}`
  // The service: /metrics on METRICS_PORT behind the token in the secret file.
  t.equal(env.METRICS_PORT, '9464')
  t.equal(env.METRICS_TOKEN_FILE, tokenPath, 'the service reads the token from the mounted secret')
  t.notOk('METRICS_TOKEN' in env, 'no token in the environment (it would show in docker inspect)')
  t.equal(secretMounts(service).get(tokenPath), METRICS_TOKEN_SECRET, `the service mounts the secret at ${tokenPath}`)
  // Prometheus: the same secret, the metrics port, a bearer token.
  t.equal(secretMounts(prometheus).get(tokenPath), METRICS_TOKEN_SECRET, `Prometheus mounts the same secret at ${tokenPath}`)
  t.same(job.authorization, { type: 'Bearer', credentials_file: tokenPath }, 'the job sends the secret as a bearer token')
  t.same(job.static_configs[0].targets, [`order-service:${env.METRICS_PORT}`], 'the job scrapes the metrics port')
  t.equal(job.static_configs[0].labels.service, 'order-service')
  t.equal(job.metrics_path ?? '/metrics', '/metrics')
  t.not(env.METRICS_PORT, env.PORT, 'the metrics port is not the app port')
  // Only the app port is published; the metrics port is reached on the compose network alone.
  const published = (service.ports as string[]).map((p) => composeDefault(String(p)).split(':').at(-1))
  t.same(published, [env.PORT], 'the host reaches the app port only')
  // The health check stays on the app port, on the readiness route.
  t.match(service.healthcheck.test.join(' '), `http://127.0.0.1:${env.PORT}/api/ready`)
  t.notMatch(service.healthcheck.test.join(' '), /metrics|9464/)
  // The secret's file: in the repository by default, a token the service accepts.
  t.match(compose.secrets[METRICS_TOKEN_SECRET].file, /^\$\{METRICS_TOKEN_SECRET_FILE:-\.\/secrets\/metrics-token\}$/, 'a file of your own through METRICS_TOKEN_SECRET_FILE')
  const file = composeSecretFile(compose, METRICS_TOKEN_SECRET)
  t.ok(existsSync(file), `${file} exists`)
  t.match(readFileSync(file, 'utf8').trim(), TOKEN_FORM, 'the default token is one the service accepts (16+ printable characters)')
  const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8')
  t.match(readme, 'METRICS_TOKEN_SECRET_FILE', 'README documents how to use a token of your own')
  // Every secret a service mounts is declared, and its file exists.
  for (const [name, svc] of Object.entries<any>(compose.services)) {
    for (const secret of secretMounts(svc).values()) {
      t.ok(existsSync(composeSecretFile(compose, secret)), `${name}: secret ${secret} declared with a file that exists`)
    }
  }
})

t.test('every alert has a severity, summary, description and a runbook anchor that exists', async (t) => {
  const alerts = alertRules()
  const names = alerts.map((a) => a.alert)
  for (const required of ['High5xxErrorRate', 'HighRequestLatency', 'ExceptionSpike', 'ServiceDown', 'AbnormalRequestRate', 'EventLoopLagHigh']) {
    t.ok(names.includes(required), `${required} is defined`)
  }
  // One alert name may have several rules (multi-window burn-rate alerts), but never the same labels twice.
  const keys = alerts.map((a) => `${a.alert} ${JSON.stringify(a.labels ?? {})}`)
  t.equal(new Set(keys).size, keys.length, 'alert name and labels are unique')
  for (const a of alerts) {
    t.ok(['critical', 'warning'].includes(a.labels?.severity ?? ''), `${a.alert}: severity critical or warning`)
    t.ok(a.annotations?.summary, `${a.alert}: summary`)
    t.ok(a.annotations?.description, `${a.alert}: description`)
    const url = a.annotations?.runbook_url ?? ''
    // <repository URL>/blob/<branch>/<path>#<anchor> -> <path> in this repository
    const m = /^https:\/\/[^#]+\/blob\/[^/]+\/([^#]+)#(.+)$/.exec(url)
    t.ok(m, `${a.alert}: runbook_url ${url} points at a file and an anchor`)
    if (!m?.[1] || !m[2]) continue
    const doc = join(REPO, m[1])
    t.ok(existsSync(doc), `${a.alert}: ${m[1]} exists`)
    if (existsSync(doc)) t.ok(markdownAnchors(doc).has(m[2]), `${a.alert}: #${m[2]} is a heading of ${m[1]}`)
  }
})

t.test('the compose file parses, pins its images, checks health and mounts files that exist', async (t) => {
  const doc = YAML.parseDocument(readFileSync(COMPOSE_FILE, 'utf8'))
  t.same(doc.errors, [], 'valid YAML')
  const compose = doc.toJS() as any
  const services = compose.services as Record<string, any>
  for (const name of ['order-service', 'postgres', 'jaeger', 'loki', 'prometheus', 'alertmanager', 'grafana']) {
    t.ok(services[name], `service ${name}`)
  }
  for (const [name, svc] of Object.entries(services)) {
    t.ok(svc.healthcheck?.test, `${name} has a health check`)
    if (svc.image && !svc.build) {
      t.match(svc.image, /^[\w./-]+:[\w.-]+$/, `${name} image has a tag`)
      t.notMatch(svc.image, /:latest$/, `${name} image is pinned`)
    }
    for (const volume of svc.volumes ?? []) {
      const [source] = String(volume).split(':')
      if (!source) continue
      if (source.startsWith('.') || isAbsolute(source)) {
        t.ok(existsSync(resolve(DEPLOY, source)), `${name} mounts ${source}, which exists`)
      } else {
        t.ok(source in (compose.volumes ?? {}), `${name} uses the declared named volume ${source}`)
      }
    }
    if (svc.build) {
      const context = resolve(DEPLOY, svc.build.context)
      t.ok(existsSync(join(context, svc.build.dockerfile)), `${name} Dockerfile exists`)
    }
  }
  t.match(services.prometheus.command.join(' '), /--enable-feature=exemplar-storage/)
  // Current stable lines (issue 13): Prometheus 3, Alertmanager >= 0.28, Grafana 12, Jaeger 2, Loki 3.
  t.match(services.prometheus.image, /^prom\/prometheus:v3\.\d+\.\d+$/, 'Prometheus 3, exact tag')
  t.match(services.alertmanager.image, /^prom\/alertmanager:v0\.(2[89]|[3-9]\d)\.\d+$/, 'Alertmanager 0.28 or later, exact tag')
  t.match(services.grafana.image, /^grafana\/grafana:12\.\d+\.\d+$/, 'Grafana 12, exact tag')
  t.match(services.jaeger.image, /^jaegertracing\/jaeger:2\.\d+\.\d+$/, 'Jaeger v2, exact tag')
  t.match(services.loki.image, /^grafana\/loki:3\.\d+\.\d+$/, 'Loki 3, exact tag')
  // OTLP from the host goes through the collector gateway (deploy/otel-collector), not to Jaeger directly.
  t.match(services['otel-collector'].ports.join(' '), /4317.*4318/)
  t.notMatch(services.jaeger.ports.join(' '), /431[78]/)
  // Jaeger v2 is configured by its YAML file; the v1 flags and variables are gone.
  t.same(services.jaeger.command, ['--config', '/etc/jaeger/config.yaml'])
  t.notMatch(JSON.stringify(services.jaeger), /SPAN_STORAGE_TYPE|COLLECTOR_OTLP_ENABLED|--memory\.max-traces|--query\./, 'no Jaeger v1 flags or variables')
  // The service sends its log records to Loki's OTLP endpoint.
  t.equal(services['order-service'].environment.OTEL_LOGS_EXPORTER, 'otlp')
  t.equal(services['order-service'].environment.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'http://loki:3100/otlp/v1/logs')
  t.ok(services.grafana.depends_on.loki, 'Grafana starts after Loki')
  // Credentials come from the environment with documented defaults.
  t.match(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD, /^\$\{GRAFANA_ADMIN_PASSWORD:-/)
  t.match(services.postgres.environment.POSTGRES_PASSWORD, /^\$\{POSTGRES_PASSWORD:-/)
  const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8')
  for (const v of ['GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD']) t.match(readme, v, `README documents ${v}`)
})

t.test('Dockerfile is multi-stage and uses pnpm deploy', async (t) => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
  t.ok((text.match(/^FROM /gm) ?? []).length >= 2, 'two stages')
  t.match(text, /pnpm --filter @o11y\/order-service deploy --prod/)
  t.match(text, /--import", "@o11y\/tracing\/register"/)
})

t.test('Grafana provisioning: exemplars link to the Jaeger data source, dashboards use provisioned uids', async (t) => {
  const ds = readYaml<any>(join(PROVISIONING_DIR, 'datasources', 'datasources.yml')).datasources as any[]
  const byUid = new Map(ds.map((d) => [d.uid, d]))
  const prom = ds.find((d) => d.type === 'prometheus')
  const jaeger = ds.find((d) => d.type === 'jaeger')
  t.ok(prom && jaeger)
  const dest = prom.jsonData.exemplarTraceIdDestinations
  t.equal(dest[0].name, 'trace_id', 'exemplar label written by @o11y/metrics')
  t.equal(dest[0].datasourceUid, jaeger.uid)
  const provider = readYaml<any>(join(PROVISIONING_DIR, 'dashboards', 'dashboards.yml')).providers[0]
  t.equal(provider.options.path, '/etc/grafana/dashboards')
  const files = dashboardFiles()
  t.ok(files.length >= 1)
  for (const file of files) {
    const dashboard = readYaml<DashboardJson>(file)
    for (const panel of allPanels(dashboard)) {
      if (panel.type === 'row') continue
      const uid = panel.datasource?.uid
      t.ok(uid === undefined || byUid.has(uid) || uid.startsWith('$'), `${dashboard.uid} "${panel.title}" uses a provisioned data source`)
    }
  }
})

t.test('Jaeger v2 config: OTLP in on all interfaces, traces stored on disk, query and health extensions', async (t) => {
  const config = readYaml<any>(join(DEPLOY, 'jaeger', 'config.yaml'))
  const pipeline = config.service.pipelines.traces
  t.same(pipeline.receivers, ['otlp'])
  t.same(pipeline.exporters, ['jaeger_storage_exporter'])
  for (const ext of ['jaeger_storage', 'jaeger_query', 'healthcheckv2']) t.ok(config.service.extensions.includes(ext), `extension ${ext} enabled`)
  for (const name of [...pipeline.receivers, ...pipeline.processors, ...pipeline.exporters]) t.ok(name in ({ ...config.receivers, ...config.processors, ...config.exporters }), `${name} is configured`)
  t.equal(config.receivers.otlp.protocols.grpc.endpoint, '0.0.0.0:4317')
  t.equal(config.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318')
  t.equal(config.extensions.jaeger_query.http.endpoint, '0.0.0.0:16686')
  const store = config.exporters.jaeger_storage_exporter.trace_storage
  t.equal(config.extensions.jaeger_query.storage.traces, store, 'the UI reads the store the pipeline writes')
  t.equal(config.extensions.jaeger_storage.backends[store].badger.ephemeral, false, 'traces survive a restart')
  const compose = readYaml<any>(COMPOSE_FILE)
  t.ok(compose.services.jaeger.volumes.includes('jaeger-data:/tmp'), 'the Badger directories are in a named volume')
  t.match(config.extensions.jaeger_storage.backends[store].badger.directories.keys, /^\/tmp\//)
  t.match(compose.services.jaeger.healthcheck.test.join(' '), new RegExp(`${config.extensions.healthcheckv2.http.endpoint.split(':')[1]}/status`))
})

t.test('Loki 3 config: OTLP needs structured metadata (schema v13, tsdb), retention from the environment', async (t) => {
  const config = readYaml<any>(join(DEPLOY, 'loki', 'config.yaml'))
  t.equal(config.limits_config.allow_structured_metadata, true)
  const schema = config.schema_config.configs.at(-1)
  t.equal(schema.schema, 'v13')
  t.equal(schema.store, 'tsdb')
  t.equal(config.server.http_listen_port, 3100)
  t.equal(config.compactor.retention_enabled, true)
  const compose = readYaml<any>(COMPOSE_FILE)
  t.ok(compose.services.loki.command.includes('-config.expand-env=true'), '${LOKI_RETENTION} is expanded')
  t.match(config.limits_config.retention_period, /^\$\{LOKI_RETENTION:-\d+h\}$/)
})

/** Every data source uid the provisioning links to, with where the link is. */
function crossLinks (ds: any[]): Array<{ from: string, what: string, uid: string }> {
  const links: Array<{ from: string, what: string, uid: string }> = []
  for (const d of ds) {
    const j = d.jsonData ?? {}
    for (const e of j.exemplarTraceIdDestinations ?? []) if (e.datasourceUid) links.push({ from: d.uid, what: 'exemplar', uid: e.datasourceUid })
    for (const f of j.derivedFields ?? []) if (f.datasourceUid) links.push({ from: d.uid, what: 'derived field', uid: f.datasourceUid })
    for (const key of ['tracesToLogsV2', 'tracesToLogs', 'tracesToMetrics', 'tracesToProfiles', 'serviceMap', 'lokiSearch']) {
      if (j[key]?.datasourceUid) links.push({ from: d.uid, what: key, uid: j[key].datasourceUid })
    }
  }
  return links
}

t.test('Grafana provisioning: every cross-link (metrics -> traces, logs -> traces, traces -> logs) names a provisioned uid of the right type', async (t) => {
  // What Grafana reads: the file after its environment expansion.
  const raw = readFileSync(join(PROVISIONING_DIR, 'datasources', 'datasources.yml'), 'utf8')
  t.same(raw.replace(/\$\$/g, '').match(/\$(\{[^}]*\}|[A-Za-z_]\w*)/g), null, 'no unescaped $VAR or ${...}: Grafana would replace it with an environment variable (empty)')
  const ds = YAML.parse(grafanaExpand(raw)).datasources as any[]
  const byUid = new Map(ds.map((d) => [d.uid, d]))
  t.equal(byUid.size, ds.length, 'uids are unique')
  const links = crossLinks(ds)
  t.same(links.map((l) => `${l.from} ${l.what}`).sort(), ['jaeger tracesToLogsV2', 'loki derived field', 'prometheus exemplar'])
  for (const l of links) t.ok(byUid.has(l.uid), `${l.from} ${l.what} -> ${l.uid}: provisioned`)
  const type = (uid: string): string | undefined => byUid.get(uid)?.type
  const loki = ds.find((d) => d.type === 'loki')
  const jaeger = ds.find((d) => d.type === 'jaeger')
  // logs -> traces: the trace_id field Loki keeps from the OTLP record opens the trace in Jaeger.
  const derived = loki.jsonData.derivedFields[0]
  t.equal(type(derived.datasourceUid), 'jaeger')
  t.equal(derived.matcherType, 'label', 'matched on the structured-metadata field, not on the line text')
  t.equal(derived.matcherRegex, LOG_FIELD.traceId)
  // Grafana expands ${...} in provisioning files: the query variables must reach it as written.
  t.equal(derived.url, '${__value.raw}', 'written $${__value.raw}: Grafana turns $$ into $')
  // traces -> logs: Loki, by service and trace id.
  const toLogs = jaeger.jsonData.tracesToLogsV2
  t.equal(type(toLogs.datasourceUid), 'loki')
  t.equal(toLogs.customQuery, true)
  t.equal(toLogs.query, `{\${__tags}} | ${LOG_FIELD.traceId}="\${__trace.traceId}"`)
  t.same(toLogs.tags, [{ key: 'service.name', value: LOG_FIELD.service }])
  t.ok(logqlProblems(toLogs.query.replace('${__tags}', `${LOG_FIELD.service}="order-service"`).replace('${__trace.traceId}', '0af7651916cd43dd8448eb211c80319c')).length === 0, 'the traces-to-logs query is valid LogQL once Grafana fills it in')
  // metrics -> traces (kept)
  t.equal(type(ds.find((d) => d.type === 'prometheus').jsonData.exemplarTraceIdDestinations[0].datasourceUid), 'jaeger')
})

/** Grafana's expansion of a provisioning file: `$$` is a literal `$`, `$VAR` and `${VAR}` environment variables. */
function grafanaExpand (text: string, env: Record<string, string> = {}): string {
  return text.replace(/\$\$|\$\{([^}]*)\}|\$([A-Za-z_]\w*)/g, (m, braced?: string, bare?: string) => m === '$$' ? '$' : env[braced ?? bare ?? ''] ?? '')
}

t.test('grafanaExpand mimics Grafana: an unescaped variable is lost, an escaped one kept', async (t) => {
  t.equal(grafanaExpand('url: ${__value.raw}'), 'url: ')
  t.equal(grafanaExpand('url: $${__value.raw}'), 'url: ${__value.raw}')
  t.equal(grafanaExpand('a $HOME b', { HOME: '/h' }), 'a /h b')
})

t.test('Grafana provisioning check fails on a link to a uid that is not provisioned', async (t) => {
  const ds = [{ uid: 'prometheus', type: 'prometheus', jsonData: { exemplarTraceIdDestinations: [{ name: 'trace_id', datasourceUid: 'tempo' }] } }]
  const byUid = new Set(ds.map((d) => d.uid))
  const dangling = crossLinks(ds).filter((l) => !byUid.has(l.uid))
  t.same(dangling, [{ from: 'prometheus', what: 'exemplar', uid: 'tempo' }])
})

/** Labels whose values never hold a newline (in Prometheus 3 a regex `.` also matches a newline). */
const SINGLE_LINE_LABELS = new Set(['service', 'route', 'status_code', 'method', 'job', 'instance', 'exception', 'status', 'currency', 'reason', 'le', 'slo', 'alertname'])

/** What a rule file uses that Prometheus 2.42 (Debian, the tests) and 3.x (compose) treat differently. */
function prometheus3Differences (expr: string): string[] {
  const found: string[] = []
  if (/\bholt_winters\s*\(/.test(expr)) found.push('holt_winters (Prometheus 3: double_exponential_smoothing, behind a feature flag)')
  if (/\bdouble_exponential_smoothing\s*\(/.test(expr)) found.push('double_exponential_smoothing (unknown to Prometheus 2)')
  // Prometheus 3 stores le and quantile of classic histograms and summaries as floats: le="1" becomes "1.0".
  for (const m of expr.matchAll(/\b(le|quantile)\s*(=|!=)\s*"([^"]*)"/g)) {
    const value = m[3] ?? ''
    if (value !== '+Inf' && !/[.eE]/.test(value)) found.push(`${m[1]}="${value}" (Prometheus 3 stores "${value}.0")`)
  }
  for (const m of expr.matchAll(/\b([A-Za-z_]\w*)\s*(=~|!~)\s*"([^"]*)"/g)) {
    if ((m[3] ?? '').includes('.') && !SINGLE_LINE_LABELS.has(m[1] ?? '')) found.push(`${m[1]}${m[2]}"${m[3]}" (a regex "." matches newlines in Prometheus 3)`)
  }
  return found
}

t.test('rules and scrape config use nothing that Prometheus 2.42 and 3.x treat differently', async (t) => {
  const rules = loadRules()
  t.ok(rules.length >= 16)
  for (const r of rules) t.same(prometheus3Differences(r.expr), [], `${r.alert ?? r.record} (${r.file.split('/').pop()})`)
  for (const file of [PROMETHEUS_CONFIG, join(DEPLOY, 'ha', 'prometheus.yml')]) {
    const text = readFileSync(file, 'utf8')
    t.notMatch(text, /api_version:\s*v1/, `${file}: no Alertmanager API v1 (removed in Prometheus 3)`)
    t.notMatch(text, /scrape_classic_histograms/, `${file}: no scrape_classic_histograms (renamed in Prometheus 3)`)
  }
  // The checker itself finds each difference.
  t.same(prometheus3Differences('holt_winters(x[5m], 0.5, 0.5)').length, 1)
  t.same(prometheus3Differences('sum(rate(x_bucket{le="1"}[5m]))'), ['le="1" (Prometheus 3 stores "1.0")'])
  t.same(prometheus3Differences('sum(rate(x_bucket{le="0.25"}[5m])) + y{le="+Inf"}'), [])
  t.same(prometheus3Differences('x{message=~"a.b"}').length, 1)
  t.same(prometheus3Differences('x{status_code=~"5.."}'), [])
})

/** The ```logql blocks of each `## Section` of a Markdown file. */
function logqlBlocks (file: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let section = ''
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i] ?? '')
    if (heading?.[1]) section = heading[1].trim()
    if (lines[i] === '```logql') {
      const body: string[] = []
      while (++i < lines.length && lines[i] !== '```') body.push(lines[i] ?? '')
      sections.set(section, [...(sections.get(section) ?? []), body.join('\n')])
    }
  }
  return sections
}

t.test('every runbook in docs/runbooks.md has LogQL that finds the failing requests\' lines: valid, on the fields Loki has', async (t) => {
  const file = join(REPO, 'docs', 'runbooks.md')
  const blocks = logqlBlocks(file)
  const fields = new Set<string>(Object.values(LOG_FIELD))
  const alerts = [...new Set(alertRules().filter((a) => (a.annotations?.runbook_url ?? '').includes('docs/runbooks.md#')).map((a) => a.alert as string))]
  t.ok(alerts.length >= 6)
  for (const alert of alerts) {
    const queries = blocks.get(alert) ?? []
    t.ok(queries.length >= 1, `${alert}: a LogQL query`)
    for (const q of queries) {
      t.same(logqlProblems(q), [], `${alert}: ${q}`)
      t.match(q, `{${LOG_FIELD.service}="order-service"`, `${alert}: selects the service's streams`)
      for (const m of q.matchAll(/\| (?:unwrap )?([a-z_]+)(?: (?:>=|<=|!=|=~|!~|>|<|=) | *\[| *\))/g)) t.ok(fields.has(m[1] ?? ''), `${alert}: ${m[1]} is a field of LOG_FIELD`)
      for (const m of q.matchAll(/by \(([^)]*)\)/g)) for (const f of (m[1] ?? '').split(/,\s*/)) t.ok(fields.has(f), `${alert}: grouped by ${f}, a field of LOG_FIELD`)
      if (q.includes('|= "')) t.match(q, `|= "${REQUEST_LINE_MESSAGE}"`, `${alert}: the request line is found by its message`)
    }
  }
})
