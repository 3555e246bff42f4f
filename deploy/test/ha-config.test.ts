import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import YAML from 'yaml'
import { requireTool } from '@o11y/test-utils'
import {
  COMPOSE_FILE, DEPLOY, METRICS_TOKEN_SECRET, PROMETHEUS_CONFIG, SECRETS_DIR, promtoolCopy, readYaml, ruleFiles, run, secretMounts, withCredentialsFile
} from './lib/repo'
import { prometheusTestConfig } from './lib/live'
import { HA_CENTRAL_CONFIG, HA_COMPOSE_FILE, HA_PROMETHEUS_CONFIG, centralTestConfig, largestGap, replicaTestConfig } from './lib/ha'

const replica = (): any => readYaml<any>(HA_PROMETHEUS_CONFIG)

t.test('promtool check config accepts the replicas\' config (with the rules beside it, as compose mounts them) and the central one', requireTool('promtool'), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-ha-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Compose mounts ha/prometheus.yml at /etc/prometheus/prometheus.yml, the rules at
  // /etc/prometheus/rules and the scrape token at /run/secrets (promtool opens it: the copy reads
  // the compose secret's file from this repository).
  const copy = promtoolCopy(HA_PROMETHEUS_CONFIG, dir)
  t.same(copy.rewritten, ['order-service'], 'the order-service job reads its token from a compose secret')
  const res = run('promtool', ['check', 'config', copy.file])
  t.equal(res.status, 0, res.stdout + res.stderr)
  t.match(res.stdout, `SUCCESS: ${ruleFiles().length} rule files found`)
  const central = run('promtool', ['check', 'config', HA_CENTRAL_CONFIG])
  t.equal(central.status, 0, central.stdout + central.stderr)
})

t.test('replicas: one config, a replica label from the environment, alerts without it, remote_write to the central store', async (t) => {
  const config = replica()
  t.same(config.global.external_labels, { replica: '${PROMETHEUS_REPLICA}' })
  t.same(config.alerting.alert_relabel_configs, [{ action: 'labeldrop', regex: 'replica' }], 'the replicas send identical alerts')
  t.same(config.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093', 'alertmanager-b:9093'], 'every alert to both Alertmanagers')
  t.equal(config.remote_write[0].url, 'http://prometheus-central:9090/api/v1/write')
  t.same(config.rule_files, ['rules/*.yml'])
  // The same scrape jobs as the single Prometheus, the Alertmanagers of the pair included.
  const single = readYaml<any>(PROMETHEUS_CONFIG)
  const jobs = (c: any): string[] => c.scrape_configs.map((s: any) => s.job_name).sort()
  t.same(jobs(config), jobs(single))
  const job = (c: any, name: string): any => c.scrape_configs.find((s: any) => s.job_name === name)
  t.same(job(config, 'order-service'), job(single, 'order-service'), 'the service is scraped exactly as by the single Prometheus')
  t.same(job(config, 'order-service').authorization, { type: 'Bearer', credentials_file: `${SECRETS_DIR}/${METRICS_TOKEN_SECRET}` }, 'with the bearer token of the compose secret')
  t.notMatch(JSON.stringify(job(config, 'order-service').static_configs), /:3000\b/, 'on the metrics port, not the app port')
  t.same(config.global.scrape_interval, single.global.scrape_interval)
  t.same(config.global.evaluation_interval, single.global.evaluation_interval)
})

t.test('the HA compose file: both replicas run the same file, the Alertmanagers peer with each other, the central store accepts remote_write', async (t) => {
  const doc = YAML.parseDocument(readFileSync(HA_COMPOSE_FILE, 'utf8'))
  t.same(doc.errors, [], 'valid YAML')
  const ha = doc.toJS() as any
  const base = readYaml<any>(COMPOSE_FILE)
  const services = ha.services as Record<string, any>
  // Layered over the base file: the replicas a (base `prometheus`) and b, the Alertmanagers a and b.
  for (const name of ['prometheus', 'alertmanager']) t.ok(base.services[name], `${name} is in the base file`)
  const mount = (svc: any): string | undefined => (svc.volumes ?? []).find((v: string) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'))
  t.equal(mount(services.prometheus), './ha/prometheus.yml:/etc/prometheus/prometheus.yml:ro')
  t.equal(mount(services['prometheus-b']), './ha/prometheus.yml:/etc/prometheus/prometheus.yml:ro', 'identical config for both replicas')
  t.equal(services.prometheus.environment.PROMETHEUS_REPLICA, 'a')
  t.equal(services['prometheus-b'].environment.PROMETHEUS_REPLICA, 'b')
  t.same(services['prometheus-b'].command, base.services.prometheus.command, 'replica b runs with the same flags as replica a')
  t.ok(services['prometheus-b'].volumes.includes('./prometheus/rules:/etc/prometheus/rules:ro'), 'and the same rules')
  // Both replicas read the scrape token from the base file's secret, where the job looks for it.
  const tokenPath = `${SECRETS_DIR}/${METRICS_TOKEN_SECRET}`
  t.equal(secretMounts(base.services.prometheus).get(tokenPath), METRICS_TOKEN_SECRET, 'replica a (the base prometheus) mounts the token secret')
  t.equal(secretMounts(services['prometheus-b']).get(tokenPath), METRICS_TOKEN_SECRET, `replica b mounts the token secret at ${tokenPath}`)
  t.ok(base.secrets?.[METRICS_TOKEN_SECRET], 'declared in the base file, which the HA file is layered over')
  t.equal(services['prometheus-b'].image, base.services.prometheus.image)
  t.equal(services['alertmanager-b'].image, base.services.alertmanager.image)
  t.equal(services['prometheus-central'].image, base.services.prometheus.image)
  t.ok(services['prometheus-central'].command.includes('--web.enable-remote-write-receiver'))
  t.equal(mount(services['prometheus-central']), './ha/prometheus-central.yml:/etc/prometheus/prometheus.yml:ro')
  const amA = services.alertmanager.command.join(' ')
  const amB = services['alertmanager-b'].command.join(' ')
  t.match(amA, /--cluster\.listen-address=0\.0\.0\.0:9094/)
  t.match(amA, /--cluster\.peer=alertmanager-b:9094/)
  t.match(amB, /--cluster\.peer=alertmanager:9094/)
  t.same(services.alertmanager.command.filter((a: string) => !a.startsWith('--cluster.')),
    base.services.alertmanager.command.filter((a: string) => !a.startsWith('--cluster.')), 'otherwise the base Alertmanager flags')
  for (const [name, svc] of Object.entries(services)) {
    if (!base.services[name]) {
      t.ok(svc.healthcheck?.test, `${name} has a health check`)
      t.match(svc.image, /^[\w./-]+:[\w.-]+$/, `${name} image pinned`)
    }
    for (const volume of svc.volumes ?? []) {
      const [source] = String(volume).split(':')
      if (!source) continue
      if (source.startsWith('.') || isAbsolute(source)) t.ok(existsSync(resolve(DEPLOY, source)), `${name} mounts ${source} (relative to deploy/), which exists`)
      else t.ok(source in (ha.volumes ?? {}) || source in (base.volumes ?? {}), `${name}: named volume ${source} declared`)
    }
  }
})

t.test('the HA test configs keep what the shipped files say', async (t) => {
  const test = YAML.parse(replicaTestConfig({ targets: ['127.0.0.1:1', '127.0.0.1:2'], alertmanagers: ['127.0.0.1:3', '127.0.0.1:4'], remoteWriteUrl: 'http://127.0.0.1:5/api/v1/write', credentialsFile: '/tmp/token' }))
  const shipped = replica()
  const shippedJob = shipped.scrape_configs.find((s: any) => s.job_name === 'order-service')
  t.same(test.scrape_configs[0].authorization, { ...shippedJob.authorization, credentials_file: '/tmp/token' }, 'the shipped authorization, with the test\'s token file')
  t.equal(test.scrape_configs[0].metrics_path, shippedJob.metrics_path)
  const single = YAML.parse(prometheusTestConfig('127.0.0.1:1', '127.0.0.1:3', '/tmp/token'))
  t.same(single.scrape_configs[0].authorization, { ...readYaml<any>(PROMETHEUS_CONFIG).scrape_configs.find((s: any) => s.job_name === 'order-service').authorization, credentials_file: '/tmp/token' }, 'live.test.ts: the same for the single Prometheus')
  t.same(single.scrape_configs[0].static_configs[0], { targets: ['127.0.0.1:1'], labels: { service: 'order-service' } })
  t.throws(() => withCredentialsFile({ job_name: 'x' }, '/tmp/token'), /scrape job x has no authorization\.credentials_file/, 'a shipped job without a token fails the live tests instead of scraping unauthenticated')
  t.same(test.global.external_labels, shipped.global.external_labels)
  t.same(test.alerting.alert_relabel_configs, shipped.alerting.alert_relabel_configs)
  t.same(test.scrape_configs[0].static_configs[0], { targets: ['127.0.0.1:1', '127.0.0.1:2'], labels: { service: 'order-service' } })
  t.equal(test.remote_write[0].url, 'http://127.0.0.1:5/api/v1/write')
  t.same(YAML.parse(centralTestConfig()).global, readYaml<any>(HA_CENTRAL_CONFIG).global)
  t.equal(largestGap([[1, '1'], [2, '1'], [4.5, '1'], [5, '1']]), 2.5)
  t.equal(largestGap([[1, '1']]), 0)
})
