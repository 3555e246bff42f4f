import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  requireTool, startPrometheus, startAlertmanager, startWebhookReceiver, freePort, waitFor,
  PrometheusApiError
} from '../src/index'

// A tiny OpenMetrics target with one exemplar, so the exemplar query sees what Prometheus stored.
async function startTarget (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const server = createHttpServer((req, res) => {
    if (req.url !== '/metrics') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' })
    res.end([
      '# TYPE demo_requests counter',
      '# HELP demo_requests Requests.',
      `demo_requests_total{route="/x"} 5 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1 ${(Date.now() / 1000).toFixed(3)}`,
      '# EOF',
      ''
    ].join('\n'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('startPrometheus scrapes, evaluates rules, stores exemplars and cleans up', requireTool('prometheus'), async (t) => {
  const target = await startTarget(t)
  const rulesDir = mkdtempSync(join(tmpdir(), 'o11y-rules-'))
  t.teardown(() => rmSync(rulesDir, { recursive: true, force: true }))
  const ruleFile = join(rulesDir, 'rules.yml')
  writeFileSync(ruleFile, [
    'groups:',
    '  - name: demo',
    '    interval: 1s',
    '    rules:',
    '      - record: demo:requests:sum',
    '        expr: sum(demo_requests_total)',
    '      - alert: DemoAlwaysFiring',
    '        expr: vector(1)',
    '        labels: { severity: warning }',
    '        annotations: { summary: always }',
    ''
  ].join('\n'))
  const prom = await startPrometheus({
    configYaml: [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: demo',
      `    static_configs: [{ targets: ["${target}"] }]`,
      ''
    ].join('\n'),
    ruleFiles: [ruleFile]
  })
  t.teardown(() => prom.stop())
  t.match(prom.url, /^http:\/\/127\.0\.0\.1:\d+$/)

  const up = await prom.waitFor(async () => {
    const r = await prom.query('demo:requests:sum')
    return r.result.length > 0 ? r.result : undefined
  }, { timeoutMs: 20_000, description: 'the recording rule' })
  t.equal(up[0].value[1], '5', 'the recording rule sums the scraped counter')

  const now = Date.now() / 1000
  const range = await prom.queryRange('demo_requests_total', now - 60, now, 1)
  t.equal(range.resultType, 'matrix')
  t.equal(range.result[0].metric.route, '/x')

  const exemplars = await prom.queryExemplars('demo_requests_total', now - 60, now + 60)
  t.equal(exemplars[0]?.exemplars[0]?.labels.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736')

  const groups = await prom.rules()
  t.same(groups.map((g) => g.name), ['demo'])
  t.same(groups[0]?.rules.map((r) => r.name), ['demo:requests:sum', 'DemoAlwaysFiring'])
  const alerts = await prom.waitFor(async () => (await prom.alerts()).find((a) => a.state === 'firing'),
    { description: 'DemoAlwaysFiring' })
  t.equal(alerts.labels.alertname, 'DemoAlwaysFiring')
  const targets = await prom.targets()
  t.equal(targets.activeTargets[0]?.health, 'up')

  const err = await prom.query('sum(rate(demo_requests_total[1m])').catch((e: unknown) => e)
  t.ok(err instanceof PrometheusApiError, 'a parse error rejects')
  t.equal((err as PrometheusApiError).errorType, 'bad_data')
  t.match((err as Error).message, /sum\(rate/)

  const dir = prom.dir
  t.ok(existsSync(join(dir, 'data')))
  await prom.stop()
  await prom.stop()
  t.notOk(existsSync(dir), 'stop removes the temporary directory')
  await t.rejects(fetch(`${prom.url}/-/ready`), 'the server is gone')
})

t.test('startPrometheus reports a broken config with the log', requireTool('prometheus'), async (t) => {
  await t.rejects(startPrometheus({ configYaml: 'scrape_configs: [{ job_name: x, bogus_field: 1 }]\n' }),
    /exited .*before it was ready[\s\S]*bogus_field/)
  await t.rejects(startPrometheus({}), /configYaml or configFile/)
})

t.test('startPrometheus reads a config file and fails loudly on a missing binary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-cfg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'p.yml'), 'rule_files: [rules/*.yml]\n')
  await t.rejects(startPrometheus({ configFile: join(dir, 'p.yml'), binary: 'definitely-not-prometheus-o11y' }),
    /spawn definitely-not-prometheus-o11y failed/)
})

t.test('startAlertmanager routes a posted alert to a webhook receiver', requireTool('prometheus-alertmanager'), async (t) => {
  const hook = await startWebhookReceiver()
  t.teardown(() => hook.close())
  const am = await startAlertmanager({
    configYaml: [
      'route:',
      '  receiver: hook',
      '  group_by: [alertname]',
      '  group_wait: 0s',
      '  group_interval: 1s',
      'receivers:',
      '  - name: hook',
      `    webhook_configs: [{ url: "${hook.url}/hook", send_resolved: false }]`,
      ''
    ].join('\n')
  })
  t.teardown(() => am.stop())
  await am.postAlerts([{ labels: { alertname: 'Demo', severity: 'warning' }, annotations: { summary: 's' } }])
  const listed = await am.alerts()
  t.equal(listed[0]?.labels.alertname, 'Demo')
  const got = await hook.waitFor(() => hook.notifications.find((n) => n.commonLabels.alertname === 'Demo'),
    { timeoutMs: 15_000, description: 'the webhook notification' })
  t.equal(got.receiver, 'hook')
  t.equal(got.path, '/hook')
  t.equal(got.alerts[0]?.annotations.summary, 's')
  await t.rejects(am.postAlerts([{ labels: {} } as never]), /rejected/)
  await am.stop()
  await t.rejects(startAlertmanager({}), /configYaml or configFile/)
})

t.test('freePort and waitFor', async (t) => {
  const port = await freePort()
  const server = createServer()
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  server.close()
  let n = 0
  t.equal(await waitFor(() => ++n >= 3 && n, { intervalMs: 1 }), 3)
  await t.rejects(waitFor(() => { throw new Error('nope') }, { timeoutMs: 20, intervalMs: 5, description: 'x' }),
    /timed out after 20 ms waiting for x \(last error: nope\)/)
})

t.test('startAlertmanager with cluster: two members gossip, the same alert posted to both is notified once; kill() ends one at once', requireTool('prometheus-alertmanager'), async (t) => {
  const hook = await startWebhookReceiver()
  t.teardown(() => hook.close())
  const config = [
    'route:',
    '  receiver: hook',
    '  group_by: [alertname]',
    '  group_wait: 0s',
    '  group_interval: 1s',
    'receivers:',
    '  - name: hook',
    `    webhook_configs: [{ url: "${hook.url}/hook", send_resolved: false }]`,
    ''
  ].join('\n')
  const [g1, g2] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
  const [a, b] = await Promise.all([
    startAlertmanager({ configYaml: config, cluster: { listenAddress: g1, peers: [g2], peerTimeout: '2s' } }),
    startAlertmanager({ configYaml: config, cluster: { listenAddress: g2, peers: [g1], peerTimeout: '2s' } })
  ])
  t.teardown(() => a.stop())
  t.teardown(() => b.stop())
  const status = await a.waitFor(async () => {
    const s = await a.clusterStatus()
    return s.status === 'ready' && s.peers.length === 2 ? s : undefined
  }, { timeoutMs: 20_000, description: 'a settled two-member cluster' })
  t.same(status.peers.map((p) => p.address).sort(), [g1, g2].sort())
  const alert = { labels: { alertname: 'Twice', severity: 'warning' } }
  await Promise.all([a.postAlerts([alert]), b.postAlerts([alert])])
  await hook.waitFor(() => hook.notifications.find((n) => n.commonLabels.alertname === 'Twice'), { timeoutMs: 15_000 })
  // The second member waits its peer timeout (2 s) and then finds the first one's entry in the
  // gossiped notification log; without the cluster it would send its own notification by now.
  await new Promise((r) => setTimeout(r, 5000))
  t.equal(hook.notifications.filter((n) => n.commonLabels.alertname === 'Twice').length, 1, 'one notification for two Alertmanagers')
  await b.kill()
  t.equal((await fetch(`${b.url}/-/ready`).catch((err: Error) => err)) instanceof Error, true, 'the killed member no longer answers')
  t.equal((await a.clusterStatus()).status, 'ready', 'the survivor still answers')
})

t.test('startPrometheus passes env to the process (external labels from ${VAR}) and kill() ends it at once', requireTool('prometheus'), async (t) => {
  const prom = await startPrometheus({
    configYaml: 'global:\n  external_labels:\n    replica: ${O11Y_TEST_REPLICA}\n',
    args: ['--enable-feature=expand-external-labels'],
    env: { O11Y_TEST_REPLICA: 'r-7' }
  })
  t.teardown(() => prom.stop())
  const res = await fetch(`${prom.url}/api/v1/status/config`)
  const body = await res.json() as { data: { yaml: string } }
  t.match(body.data.yaml, /replica: r-7/)
  await prom.kill()
  t.ok((await fetch(`${prom.url}/-/ready`).catch((err: Error) => err)) instanceof Error, 'killed')
  await prom.stop()
})
