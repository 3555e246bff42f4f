import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import YAML from 'yaml'
import { requireTool } from '@o11y/test-utils'
import {
  ALERTMANAGER_CONFIG, COMPOSE_FILE, DEPLOY, PROMETHEUS_CONFIG, PROVISIONING_DIR, REPO,
  alertRules, dashboardFiles, markdownAnchors, readYaml, ruleFiles, run, allPanels, type DashboardJson
} from './lib/repo'

t.test('promtool check config accepts prometheus.yml and the rule files it loads', requireTool('promtool'), async (t) => {
  const res = run('promtool', ['check', 'config', PROMETHEUS_CONFIG])
  t.equal(res.status, 0, res.stdout + res.stderr)
  // rule_files is the glob rules/*.yml: every file of the folder is loaded.
  const files = ruleFiles()
  t.match(res.stdout, `SUCCESS: ${files.length} rule files found`)
  for (const file of files) t.match(res.stdout, `Checking ${file}`)
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
  for (const name of ['order-service', 'postgres', 'jaeger', 'prometheus', 'alertmanager', 'grafana']) {
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
  t.match(services.jaeger.image, /^jaegertracing\/jaeger:2\./, 'Jaeger v2')
  t.same(Object.keys(services.jaeger.ports ?? []).length, 3)
  t.match(services.jaeger.ports.join(' '), /4317.*4318/)
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
