import t from 'tap'
import { requireTool, startAlertmanager, startWebhookReceiver, type WebhookNotification } from '@o11y/test-utils'
import { ALERTMANAGER_CONFIG, alertRules, readYaml, run } from './lib/repo'
import { alertmanagerTestConfig } from './lib/alertmanager'

const RECEIVER_BY_SEVERITY: Record<string, string> = {
  critical: 'critical-pagerduty',
  warning: 'warning-slack-email'
}

function routesTest (receiver: string, labels: Record<string, string>): { status: number | null, out: string } {
  const res = run('amtool', ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`,
    `--verify.receivers=${receiver}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)])
  return { status: res.status, out: res.stdout.trim() }
}

t.test('every alert reaches the receiver of its severity (amtool config routes test)', requireTool('amtool'), async (t) => {
  const alerts = alertRules()
  t.ok(alerts.length >= 6)
  for (const a of alerts) {
    const severity = a.labels?.severity ?? ''
    const expected = RECEIVER_BY_SEVERITY[severity]
    t.ok(expected, `${a.alert}: severity ${severity} has a route`)
    if (!expected) continue
    const res = routesTest(expected, { alertname: a.alert as string, service: 'order-service', ...a.labels })
    t.equal(res.status, 0, `${a.alert} (${severity}) -> ${res.out}`)
    t.equal(res.out, expected)
  }
  t.equal(routesTest('default-webhook', { alertname: 'Watchdog', service: 'order-service' }).out, 'default-webhook',
    'an alert without severity reaches the default webhook')
  t.equal(routesTest('default-webhook', { alertname: 'X', severity: 'info' }).out, 'default-webhook')
  const wrong = routesTest('default-webhook', { alertname: 'ServiceDown', severity: 'critical' })
  t.not(wrong.status, 0, 'a wrong expectation fails')
})

t.test('alertmanager.yml groups by alert and service and reads secrets from files', async (t) => {
  const config = readYaml<any>(ALERTMANAGER_CONFIG)
  t.same(config.route.group_by, ['alertname', 'service'])
  t.equal(config.route.receiver, 'default-webhook')
  const receivers = Object.fromEntries(config.receivers.map((r: any) => [r.name, r]))
  t.ok(receivers['critical-pagerduty'].pagerduty_configs[0].routing_key_file)
  t.ok(receivers['critical-pagerduty'].slack_configs)
  t.ok(receivers['warning-slack-email'].slack_configs && receivers['warning-slack-email'].email_configs)
  t.ok(config.global.slack_api_url_file)
  t.ok(config.global.smtp_auth_password_file)
  t.notMatch(JSON.stringify(config), /hooks\.slack\.com|"(routing_key|service_key|api_url|auth_password|slack_api_url|smtp_auth_password)":/, 'no secret inline')
})

t.test('live Alertmanager: routing, grouping and both inhibitions', requireTool('prometheus-alertmanager'), async (t) => {
  const hook = await startWebhookReceiver()
  t.teardown(() => hook.close())
  const am = await startAlertmanager({ configYaml: alertmanagerTestConfig(hook.url) })
  t.teardown(() => am.stop())

  const annotations = { summary: 's', description: 'd', runbook_url: 'https://github.com/o11y-fastify/o11y-fastify/blob/main/docs/runbooks.md#r' }
  const alert = (alertname: string, severity: string, service: string, extra: Record<string, string> = {}) =>
    ({ labels: { alertname, severity, service, ...extra }, annotations })

  // Sources first, so the inhibitor knows them before the targets arrive.
  await am.postAlerts([
    alert('ServiceDown', 'critical', 'down-svc', { instance: 'a:3000', job: 'down-svc' }),
    alert('High5xxErrorRate', 'critical', 'busy-svc')
  ])
  await am.waitFor(async () => (await am.alerts()).length === 2, { description: 'the source alerts' })
  await am.postAlerts([
    // silenced by ServiceDown of the same service
    alert('High5xxErrorRate', 'critical', 'down-svc'),
    alert('HighRequestLatency', 'warning', 'down-svc'),
    // silenced by the critical alert of the same service
    alert('HighRequestLatency', 'warning', 'busy-svc'),
    // nothing critical about this service: delivered, both instances in one group
    alert('HighRequestLatency', 'warning', 'calm-svc', { instance: 'a:3000' }),
    alert('HighRequestLatency', 'warning', 'calm-svc', { instance: 'b:3000' }),
    // no severity: default route
    { labels: { alertname: 'Watchdog', service: 'calm-svc' }, annotations }
  ])

  const state = await am.waitFor(async () => {
    const all = await am.alerts()
    return all.length === 8 && all.filter((a) => a.status?.state === 'suppressed').length === 3 ? all : undefined
  }, { timeoutMs: 15_000, description: 'three inhibited alerts' })
  const find = (name: string, service: string) => state.find((a) => a.labels.alertname === name && a.labels.service === service)
  t.equal(find('High5xxErrorRate', 'down-svc')?.status?.state, 'suppressed', 'ServiceDown silences a critical alert of its service')
  t.equal(find('HighRequestLatency', 'down-svc')?.status?.state, 'suppressed', 'ServiceDown silences a warning of its service')
  t.equal(find('HighRequestLatency', 'busy-svc')?.status?.state, 'suppressed', 'a critical alert silences a warning of its service')
  t.ok((find('HighRequestLatency', 'busy-svc')?.status?.inhibitedBy ?? []).length > 0)
  t.equal(find('ServiceDown', 'down-svc')?.status?.state, 'active', 'ServiceDown itself is not inhibited')
  t.equal(find('High5xxErrorRate', 'busy-svc')?.status?.state, 'active')

  const key = (n: WebhookNotification) => `${n.receiver} ${n.path} ${n.groupLabels.alertname} ${n.groupLabels.service ?? ''}`
  await hook.waitFor(() => {
    const seen = new Set(hook.notifications.map(key))
    return seen.has('critical-pagerduty /critical ServiceDown down-svc') &&
      seen.has('critical-pagerduty /critical High5xxErrorRate busy-svc') &&
      seen.has('warning-slack-email /warning HighRequestLatency calm-svc') &&
      seen.has('default-webhook /default Watchdog calm-svc')
  }, { timeoutMs: 20_000, description: 'the four delivered groups' })
  // Give the suppressed groups time to show up if inhibition were broken (several group intervals).
  await new Promise((r) => setTimeout(r, 3000))
  const delivered = hook.notifications.flatMap((n) => n.alerts.map((a) => `${a.labels.alertname} ${a.labels.service}`))
  t.notOk(delivered.includes('High5xxErrorRate down-svc'), 'inhibited alert never notified')
  t.notOk(delivered.includes('HighRequestLatency down-svc'), 'inhibited alert never notified')
  t.notOk(delivered.includes('HighRequestLatency busy-svc'), 'inhibited alert never notified')
  const calm = hook.notifications.find((n) => n.groupLabels.alertname === 'HighRequestLatency' && n.groupLabels.service === 'calm-svc')
  t.equal(calm?.alerts.length, 2, 'alerts of one alertname and service are grouped into one notification')
  t.same(Object.keys(calm?.groupLabels ?? {}).sort(), ['alertname', 'service'])
})
