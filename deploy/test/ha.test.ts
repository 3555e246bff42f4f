import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  freePort, requireTool, startAlertmanager, startPrometheus, startWebhookReceiver, waitFor,
  type AlertmanagerHandle, type PrometheusHandle, type PromSeries, type WebhookNotification
} from '@o11y/test-utils'
import { ruleFiles } from './lib/repo'
import { alertmanagerTestConfig } from './lib/alertmanager'
import {
  LOADGEN_ENTRY, SERVICE_DIR, SERVICE_ENTRY, buildExists, childEnv, metricsProtection, startProcess, writeTestRuleFiles, writeTokenFile, type ManagedProcess
} from './lib/live'
import { centralTestConfig, largestGap, replicaTestConfig } from './lib/ha'

const skip = requireTool('prometheus').skip || requireTool('prometheus-alertmanager').skip

/**
 * The demo "hosts" the HA pair scrapes, one scrape target each. host-a runs the order service in
 * cluster mode (`--workers 4`: 4 `node:cluster` workers whose /metrics answers for all of them),
 * host-b as one process; the assertions count per host (scrape target), not per process.
 */
const HOSTS = [
  { name: 'host-a', workers: 4, requests: 300 },
  { name: 'host-b', workers: 1, requests: 240 }
] as const

/** Alertmanager's position-based wait before the second member notifies (Alertmanager default 15s). */
const PEER_TIMEOUT_S = 3
/** Largest distance between two samples of a 1 s scrape that still counts as "no gap". */
const MAX_GAP_S = 2.5

/** `url` is the app port (the load goes there), `target` the metrics port Prometheus scrapes. */
interface Host { name: string, url: string, metricsUrl: string, target: string, process: ManagedProcess }

async function startHost (host: typeof HOSTS[number], dataDir: string, tokenFile: string): Promise<Host> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // As compose runs it: /metrics on a port of its own (shared by the cluster host's workers),
  // behind the token of a file the replicas read too.
  const metricsPort = await freePort()
  // A real PostgreSQL when there is one (CI sets DATABASE_URL; a schema per host), else PGlite.
  const database: Record<string, string> = process.env.DATABASE_URL
    ? { DATABASE_URL: process.env.DATABASE_URL, DB_SCHEMA: `o11y_ha_${host.name.replace(/\W/g, '_')}` }
    : { O11Y_DATA_DIR: dataDir }
  const service = startProcess([SERVICE_ENTRY, ...(host.workers > 1 ? ['--workers', String(host.workers)] : [])], SERVICE_DIR, childEnv({
    ...database,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    METRICS_TOKEN_FILE: tokenFile,
    OTEL_SERVICE_NAME: 'order-service',
    OTEL_SDK_DISABLED: 'true',
    PAYMENT_FAILURE_RATE: '0.2',
    PAYMENT_LATENCY_MS: '2',
    LOG_LEVEL: 'warn'
  }))
  let exited: number | null | undefined
  void service.exited.then((code) => { exited = code })
  // On PGlite a host initialises its database first; the cluster host then starts 4 workers (each
  // loads the SDK) while host-b starts too: on a busy 2-CPU machine that can take over 90 s.
  await waitFor(async () => {
    if (exited !== undefined) throw new Error(`${host.name} exited (${String(exited)}):\n${service.output().slice(-3000)}`)
    const res = await fetch(`${url}/api/ready`).catch(() => undefined)
    await res?.arrayBuffer()
    return res?.status === 200
  }, { timeoutMs: 180_000, intervalMs: 250, description: `${host.name} at ${url}/api/ready` })
    .catch((err: Error) => { throw new Error(`${err.message}\n${service.output().slice(-3000)}`) })
  return { name: host.name, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, target: `127.0.0.1:${metricsPort}`, process: service }
}

/** Requests the service answered, from the load generator's summary line `status codes: 200:12 201:30 ...`. */
function answered (output: string): number {
  const line = /^status codes: (.*)$/m.exec(output)?.[1]
  if (line === undefined) throw new Error(`no summary in the load generator's output:\n${output.slice(-2000)}`)
  return line.split(' ').filter((kv) => /^\d{3}:\d+$/.test(kv)).reduce((sum, kv) => sum + Number(kv.split(':')[1]), 0)
}

const firing = (hook: { notifications: WebhookNotification[] }, alertname: string): WebhookNotification[] =>
  hook.notifications.filter((n) => n.status === 'firing' && n.commonLabels.alertname === alertname)

t.test('HA: two Prometheus replicas, two clustered Alertmanagers, remote_write to a central Prometheus; one of each killed', { skip }, async (t) => {
  const started = Date.now()
  await waitFor(() => buildExists(), { timeoutMs: 30_000, intervalMs: 500, description: 'the order-service build' })
  const tmp = mkdtempSync(join(tmpdir(), 'o11y-ha-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

  // --- two demo hosts ------------------------------------------------------------------------------
  const { token, file: tokenFile } = writeTokenFile(tmp)
  const hosts = await Promise.all(HOSTS.map(async (h) => await startHost(h, join(tmp, h.name), tokenFile)))
  for (const h of hosts) t.teardown(() => h.process.stop())
  for (const h of hosts) {
    const seen = await metricsProtection(h.url, h.metricsUrl, token)
    t.equal(seen.anonymous, 401, `${h.name}: the metrics port without the token: 401`)
    t.match(seen.challenge ?? '', /^Bearer /, `${h.name}: with a Bearer challenge`)
    t.equal(seen.wrongToken, 401, `${h.name}: with a wrong token: 401`)
    t.equal(seen.appPort, 404, `${h.name}: the app port has no /metrics, even with the token`)
    t.equal(seen.withToken, 200, `${h.name}: the metrics port with the token: 200`)
  }

  // --- two Alertmanagers in one gossip cluster, the repository's routing --------------------------
  const hook = await startWebhookReceiver()
  t.teardown(() => hook.close())
  const gossip = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`] as const
  const amConfig = alertmanagerTestConfig(hook.url)
  const [amA, amB] = await Promise.all(gossip.map(async (listen, i) => await startAlertmanager({
    configYaml: amConfig,
    cluster: { listenAddress: listen, peers: [gossip[1 - i] as string], peerTimeout: `${PEER_TIMEOUT_S}s` }
  }))) as [AlertmanagerHandle, AlertmanagerHandle]
  t.teardown(() => amA.stop())
  t.teardown(() => amB.stop())

  // --- the central store, then the two replicas with deploy/ha/prometheus.yml ----------------------
  const central = await startPrometheus({ configYaml: centralTestConfig(), args: ['--web.enable-remote-write-receiver'] })
  t.teardown(() => central.stop())
  const rulesDir = join(tmp, 'rules')
  mkdirSync(rulesDir)
  const rules = [...writeTestRuleFiles(ruleFiles(), rulesDir), join(__dirname, 'fixtures', 'ha-rules.yml')]
  const replicaConfig = replicaTestConfig({
    targets: hosts.map((h) => h.target),
    alertmanagers: [amA, amB].map((am) => `127.0.0.1:${am.port}`),
    remoteWriteUrl: `${central.url}/api/v1/write`,
    credentialsFile: tokenFile
  })
  const [promA, promB] = await Promise.all(['a', 'b'].map(async (replica) => await startPrometheus({
    configYaml: replicaConfig,
    ruleFiles: rules,
    // Prometheus 3 expands ${PROMETHEUS_REPLICA} by itself; Debian's 2.42 needs the feature flag.
    // The first alerts go out before the notifier knows its Alertmanagers; resend every second
    // instead of every minute (shortened like the intervals).
    args: ['--enable-feature=expand-external-labels', '--rules.alert.resend-delay=1s'],
    env: { PROMETHEUS_REPLICA: replica }
  }))) as [PrometheusHandle, PrometheusHandle]
  t.teardown(() => promA.stop())
  t.teardown(() => promB.stop())

  for (const prom of [promA, promB]) {
    await prom.waitFor(async () => (await prom.targets()).activeTargets.filter((x) => x.health === 'up').length === hosts.length,
      { timeoutMs: 20_000, description: 'both hosts up' })
  }
  const cluster = await amA.waitFor(async () => {
    const s = await amA.clusterStatus()
    return s.status === 'ready' && s.peers.length === 2 ? s : undefined
  }, { timeoutMs: 30_000, description: 'the Alertmanager cluster settled with two members' })
  t.equal(cluster.peers.length, 2, 'two Alertmanagers in one cluster')
  const replicas = await central.waitFor(async () => {
    const res = await central.query('count by (replica) (up{job="order-service"})')
    const r = (res.result as Array<{ metric: Record<string, string> }>).map((s) => s.metric.replica).sort()
    return r.length === 2 ? r : undefined
  }, { timeoutMs: 20_000, description: 'samples of both replicas in the central Prometheus' })
  t.same(replicas, ['a', 'b'], 'the central Prometheus receives both replicas (label replica)')

  // --- an alert both replicas fire, sent to both Alertmanagers: 4 deliveries, 1 notification --------
  const first = await hook.waitFor(() => firing(hook, 'HATestAlwaysFiring')[0],
    { timeoutMs: 30_000, intervalMs: 250, description: 'the HATestAlwaysFiring notification' })
    .catch(async (err: Error) => {
      const state = { prometheus: await promA.alerts(), alertmanager: await amA.alerts(), notifications: hook.notifications, amLog: amA.logs().slice(-3000), promLog: promA.logs().slice(-3000) }
      throw new Error(`${err.message}\n${JSON.stringify(state, null, 1)}`)
    })
  t.same(first.alerts.length, 1, 'one alert, not one per replica')
  t.notOk('replica' in (first.alerts[0]?.labels ?? {}), 'the replica label is dropped before alerts leave Prometheus')
  for (const am of [amA, amB]) {
    const got = await am.waitFor(async () => (await am.alerts()).find((a) => a.labels.alertname === 'HATestAlwaysFiring'),
      { timeoutMs: 10_000, description: 'the alert at both Alertmanagers' })
    t.ok(got, `Alertmanager ${am.port} has the alert too`)
  }

  // --- load on both hosts; one replica and one Alertmanager die in the middle of it -------------------
  const loads = hosts.map((h, i) => startProcess([LOADGEN_ENTRY, '--url', h.url, '--duration', '30', '--rate', '20',
    '--concurrency', '4', '--max-requests', String(HOSTS[i]?.requests)], SERVICE_DIR, childEnv({})))
  for (const l of loads) t.teardown(() => l.stop())
  // Kill once the load runs and the central store holds some seconds of both replicas, so that the
  // series can be seen to go on across the failover.
  await new Promise((r) => setTimeout(r, 3000))
  await central.waitFor(async () => {
    const res = await central.query('min(count_over_time(up{job="order-service"}[1m]))')
    return Number(res.result[0]?.value[1] ?? 0) >= 8
  }, { timeoutMs: 20_000, description: '8 s of samples of both replicas in the central store' })
  t.ok(loads.every((l) => l.child.exitCode === null), 'both load generators still running at the kill')
  const killedAt = Date.now() / 1000
  await Promise.all([promA.kill(), amA.kill()])
  t.comment(`killed Prometheus replica a and Alertmanager ${amA.port} (SIGKILL) at +${(killedAt - started / 1000).toFixed(1)} s, during the load`)
  const codes = await Promise.all(loads.map(async (l) => await l.exited))
  t.same(codes, loads.map(() => 0), 'load generators finished')
  // A `list` of the mix may follow its cursor with a second call: count the answers, not the operations.
  const expected = Object.fromEntries(hosts.map((h, i) => [h.target, answered(loads[i]?.output() ?? '')]))
  for (const [i, l] of loads.entries()) {
    t.match(l.output(), /network errors 0\b/, `${hosts[i]?.name}: every request answered`)
    t.ok((expected[hosts[i]?.target ?? ''] ?? 0) >= (HOSTS[i]?.requests ?? Infinity), `${hosts[i]?.name}: ${expected[hosts[i]?.target ?? '']} answers for ${HOSTS[i]?.requests} operations`)
  }

  // --- totals across hosts, as the central Prometheus has them from the surviving replica ------------
  const totalsQuery = 'sum by (instance) (http_requests_total{job="order-service", replica="b", route=~"/api/orders.*"})'
  const totals = await central.waitFor(async () => {
    const res = await central.query(totalsQuery)
    const got = Object.fromEntries((res.result as Array<{ metric: Record<string, string>, value: [number, string] }>).map((s) => [s.metric.instance, Number(s.value[1])]))
    return hosts.every((h) => got[h.target] === expected[h.target]) ? got : undefined
  }, { timeoutMs: 20_000, description: `central totals equal to the requests sent ${JSON.stringify(expected)}` })
    .catch(async (err: Error) => {
      const res = await central.query(totalsQuery)
      throw new Error(`${err.message}; central has ${JSON.stringify(res.result)}`)
    })
  const sent = Object.values(expected).reduce((a, b) => a + b, 0)
  const total = Number((await central.query(`sum(${totalsQuery})`)).result[0]?.value[1])
  t.equal(total, sent, `total across hosts in the central Prometheus: ${total} (sent ${sent})`)
  for (const h of hosts) t.equal(totals[h.target], expected[h.target], `${h.name}: ${totals[h.target]} requests counted`)
  // A dashboard on the central store sees each series once when it deduplicates by replica.
  const dedup = await central.query('sum(max without (replica) (http_requests_total{job="order-service", route=~"/api/orders.*"}))')
  t.equal(Number(dedup.result[0]?.value[1]), sent, 'deduplicated across replicas: the same total')

  // --- no gap in the surviving replica's series across the failover -----------------------------------
  await central.waitFor(async () => {
    const res = await central.query('min(timestamp(up{job="order-service", replica="b"}))')
    return Number(res.result[0]?.value[1] ?? 0) > killedAt + 6
  }, { timeoutMs: 20_000, description: 'samples of replica b from 6 s after the kill in the central store' })
  const window = Math.ceil(Date.now() / 1000 - killedAt + 10)
  const upB = (await central.query(`up{job="order-service", replica="b"}[${window}s]`)).result as PromSeries[]
  const upA = (await central.query(`up{job="order-service", replica="a"}[${window}s]`)).result as PromSeries[]
  t.equal(upB.length, hosts.length, 'the surviving replica has a series per host')
  for (const s of upB) {
    const gap = largestGap(s.values)
    const from = (s.values[0]?.[0] ?? Infinity) - killedAt
    const to = (s.values.at(-1)?.[0] ?? 0) - killedAt
    t.comment(`central: replica b up{instance="${s.metric.instance}"}: ${s.values.length} samples from ${from.toFixed(1)} s to +${to.toFixed(1)} s around the kill, largest gap ${gap.toFixed(3)} s`)
    t.ok(from < -5 && to > 5, 'the samples span the failover (5 s before to 5 s after the kill)')
    t.ok(gap <= MAX_GAP_S, `no gap in replica b's series for ${s.metric.instance} across the failover (largest ${gap.toFixed(3)} s <= ${MAX_GAP_S} s)`)
  }
  for (const s of upA) {
    const last = s.values.at(-1)?.[0] ?? 0
    t.comment(`central: replica a up{instance="${s.metric.instance}"}: last sample ${(last - killedAt).toFixed(1)} s after the kill`)
    t.ok(last <= killedAt + 1.5, 'the killed replica stopped sending at the kill')
  }

  // --- still exactly one notification for the alert, after the Alertmanager that may have sent it died ---
  await new Promise((r) => setTimeout(r, (PEER_TIMEOUT_S + 3) * 1000))
  const always = firing(hook, 'HATestAlwaysFiring').length
  t.comment(`notifications for HATestAlwaysFiring (2 replicas x 2 Alertmanagers, then 1 x 1): ${always}`)
  t.equal(always, 1, 'one notification for the alert')

  // --- a host goes down after the failover: the surviving pair pages once --------------------------------
  const down = hosts[1] as Host
  t.equal(await down.process.stop(), 0, `${down.name} stopped`)
  const page = await hook.waitFor(() => firing(hook, 'ServiceDown').find((n) => n.alerts.some((a) => a.labels.instance === down.target)),
    { timeoutMs: 30_000, intervalMs: 250, description: `ServiceDown for ${down.name}` })
  t.equal(page.path, '/critical', 'routed to the paging receiver')
  // On a loaded machine another target can miss its scrapes long enough to be "down" too; its alert
  // then shares the group (alertname, service). The replica label must still merge the replicas'
  // alerts for each target into one, and no Alertmanager may send the same notification twice.
  const forDown = (n: WebhookNotification): number => n.alerts.filter((a) => a.labels.instance === down.target).length
  t.equal(forDown(page), 1, `one alert for ${down.name} in it`)
  t.ok(page.alerts.every((a) => !('replica' in a.labels)), 'without the replica label')
  await new Promise((r) => setTimeout(r, (PEER_TIMEOUT_S + 3) * 1000))
  const pages = firing(hook, 'ServiceDown')
  const alertSets = pages.map((n) => n.alerts.map((a) => `${a.labels.instance ?? ''} ${a.status}`).sort().join(', '))
  t.comment(`notifications for ServiceDown of ${down.name} (1 replica x 1 Alertmanager left): ${pages.length}: ${alertSets.map((a) => `[${a}]`).join(' ')}`)
  const others = new Set(pages.flatMap((n) => n.alerts.map((a) => a.labels.instance)).filter((i) => i !== down.target))
  if (others.size === 0) {
    t.equal(pages.length, 1, 'one notification for ServiceDown')
  } else {
    t.comment(`ServiceDown also fired for ${[...others].join(', ')}, which missed scrapes on the loaded machine: each distinct group state may notify once`)
    t.equal(new Set(alertSets).size, pages.length, 'no notification for ServiceDown was sent twice')
  }
  t.ok(pages.every((n) => forDown(n) <= 1), `${down.name} is in each notification at most once`)
  t.comment(`HA test ran ${((Date.now() - started) / 1000).toFixed(1)} s`)
})
