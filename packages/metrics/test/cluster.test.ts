import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import cluster from 'node:cluster'
import { request } from 'node:http'
import { join } from 'node:path'
import { requireTool } from '@o11y/test-utils'
import t, { type Test } from 'tap'
import { CLUSTER_METRIC_NAMES, clusterMetrics, ruleFor } from '../src/index'
import { buildApp, logCapture, OPENMETRICS_ACCEPT, parseSamples, type Sample } from './fixtures/helpers'

const FIXTURE = join(__dirname, 'fixtures', 'cluster-app.cjs')
const TIMEOUT_MS = 500

interface Fixture {
  child: ChildProcess
  appPort: number
  metricsPort: number
  /** Worker id -> pid of every worker that listened, in order. */
  workers: Array<{ id: number, pid: number }>
  waitWorkers (n: number): Promise<void>
}

async function startFixture (t: Test, env: Record<string, string> = {}): Promise<Fixture> {
  const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, WORKERS: '4', CLUSTER_TIMEOUT_MS: String(TIMEOUT_MS), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  })
  const workers: Array<{ id: number, pid: number }> = []
  const waiters: Array<() => void> = []
  let buf = ''
  const ready = new Promise<{ appPort: number, metricsPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fixture exited ${String(code)}: ${stderr}`)))
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        const ev = JSON.parse(line) as { event: string, id: number, pid: number, appPort: number, metricsPort: number }
        if (ev.event === 'worker') {
          workers.push({ id: ev.id, pid: ev.pid })
          for (const w of waiters.splice(0)) w()
        } else if (ev.event === 'ready') resolve(ev)
      }
    })
  })
  const { appPort, metricsPort } = await ready
  return {
    child,
    appPort,
    metricsPort,
    workers,
    async waitWorkers (n) {
      while (workers.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
}

/** One HTTP request on its own connection (no keep-alive), so the cluster spreads them over workers. */
async function get (port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function total (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)
}

/** Every counter and histogram series (not per-worker runtime series), keyed by name and labels. */
function monotonicSeries (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of parseSamples(text)) {
    if (!/(_total|_bucket|_count|_sum)$/.test(s.name) || 'worker' in s.labels) continue
    out.set(`${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`, s.value)
  }
  return out
}

async function sendRequests (port: number, n: number, path = '/work?tenant=a'): Promise<Set<number>> {
  const seen = new Set<number>()
  // Ten at a time: concurrent connections, each answered by whichever worker the primary hands it to.
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, async () => await get(port, path)))
    for (const r of batch) {
      if (r.status !== 200) throw new Error(`request answered ${r.status}: ${r.body}`)
      seen.add((JSON.parse(r.body) as { worker: number }).worker)
    }
  }
  return seen
}

t.test('4 workers: every read of any /metrics shows the exact totals, with exemplars, promtool-clean', async (t) => {
  const fx = await startFixture(t)
  const seen = await sendRequests(fx.appPort, 200)
  t.ok(seen.size >= 2, `requests reached ${seen.size} workers`)

  for (let i = 0; i < 20; i++) {
    // Alternate between the workers' /metrics (the app port) and the primary's own port.
    const port = i % 2 === 0 ? fx.appPort : fx.metricsPort
    const res = await get(port, '/metrics')
    t.equal(res.status, 200, `read ${i} answered`)
    const samples = parseSamples(res.body)
    t.equal(total(samples, 'http_requests_total', { route: '/work' }), 200, `read ${i} (${port === fx.appPort ? 'worker' : 'primary'}): http_requests_total`)
    t.equal(total(samples, 'http_request_duration_seconds_count', { route: '/work' }), 200, `read ${i}: histogram _count`)
    t.equal(total(samples, CLUSTER_METRIC_NAMES.workersMissing), 0, `read ${i}: no worker missing`)
  }

  const prom = await get(fx.appPort, '/metrics')
  const samples = parseSamples(prom.body)
  t.equal(total(samples, CLUSTER_METRIC_NAMES.workers), 4)
  t.same(samples.filter((s) => s.name === CLUSTER_METRIC_NAMES.workerUp).map((s) => s.value), [1, 1, 1, 1])
  // Runtime metrics keep one series per worker; request gauges are summed.
  const rss = samples.filter((s) => s.name === 'process_resident_memory_bytes')
  t.same(rss.map((s) => s.labels.worker).sort(), fx.workers.map((w) => String(w.id)).sort(), 'process_resident_memory_bytes per worker')
  t.equal(samples.filter((s) => s.name === 'http_requests_in_flight').length, 1, 'in-flight gauge summed into one series')
  // Bucket counts add up: the +Inf bucket equals the count.
  t.equal(total(samples, 'http_request_duration_seconds_bucket', { route: '/work', le: '+Inf' }), 200)

  const om = await get(fx.appPort, '/metrics', { accept: OPENMETRICS_ACCEPT })
  t.match(om.body, /# EOF\n$/)
  const buckets = parseSamples(om.body).filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.exemplar !== undefined)
  t.ok(buckets.length > 0, 'exemplars on the summed buckets')
  for (const b of buckets) t.match(b.exemplar?.labels, { trace_id: /^[0-9a-f]{32}$/, span_id: /^[0-9a-f]{16}$/ })
  const counterEx = parseSamples(om.body).filter((s) => s.name === 'http_requests_total' && s.exemplar !== undefined)
  t.ok(counterEx.length > 0, 'exemplar on the summed counter')

  if (requireTool('promtool').skip === false) {
    // promtool check metrics reads the Prometheus text format only (OpenMetrics exemplars are a parse error to it).
    const res = spawnSync('promtool', ['check', 'metrics'], { input: prom.body, encoding: 'utf8' })
    t.equal(res.status, 0, `promtool check metrics exit code: ${res.stderr}${res.stdout}`)
    t.equal(res.stderr.trim(), '', 'promtool: no lint findings')
  } else t.comment('promtool not installed: lint skipped')
})

t.test('a killed and restarted worker: no counter goes backwards, its counts stay in the totals', async (t) => {
  const fx = await startFixture(t)
  await sendRequests(fx.appPort, 120)
  let prev = monotonicSeries((await get(fx.metricsPort, '/metrics')).body)
  t.equal(prev.get('http_requests_total[["method","GET"],["route","/work"],["status_code","200"],["tenant","a"]]'), 120)

  const victim = fx.workers[0] as { id: number, pid: number }
  process.kill(victim.pid, 'SIGKILL')
  await fx.waitWorkers(5)
  const reads: string[] = []
  for (let i = 0; i < 6; i++) {
    if (i === 3) await sendRequests(fx.appPort, 40)
    const text = (await get(i % 2 === 0 ? fx.appPort : fx.metricsPort, '/metrics')).body
    reads.push(text)
    const now = monotonicSeries(text)
    for (const [key, value] of prev) {
      const v = now.get(key)
      if (v === undefined || v < value) t.fail(`read ${i}: ${key} went from ${value} to ${String(v)}`)
    }
    prev = now
  }
  const first = parseSamples(reads[0] as string)
  t.equal(total(first, 'http_requests_total', { route: '/work' }), 120, 'the dead worker\'s requests (seen in the last scrape before its death) still count')
  t.equal(total(first, CLUSTER_METRIC_NAMES.retiredWorkers), 1)
  t.equal(total(first, CLUSTER_METRIC_NAMES.workers), 4, 'the replacement worker answers')
  t.notOk(first.some((s) => s.name === CLUSTER_METRIC_NAMES.workerUp && s.labels.worker === String(victim.id)), 'the dead worker is no longer asked')
  const last = parseSamples(reads[5] as string)
  t.equal(total(last, 'http_requests_total', { route: '/work' }), 160)
  t.equal(total(last, 'http_request_duration_seconds_count', { route: '/work' }), 160)
})

t.test('a dead worker\'s float counts moving into the retired total never read lower, not even by one ulp', async (t) => {
  // Summed in worker-id order the four increments make exactly 1; once worker 1's share is added
  // after the others (as the retired total) the same numbers make 0.9999999999999999.
  const fx = await startFixture(t, { FLOAT_INC: JSON.stringify({ 1: 0.1, 2: 0.1, 3: 0.1, 4: 0.7 }) })
  const before = total(parseSamples((await get(fx.metricsPort, '/metrics')).body), 'fixture_float_total')
  t.equal(before, 1)
  const victim = fx.workers.find((w) => w.id === 1) as { id: number, pid: number }
  process.kill(victim.pid, 'SIGKILL')
  await fx.waitWorkers(5)
  for (let i = 0; i < 3; i++) {
    const samples = parseSamples((await get(fx.metricsPort, '/metrics')).body)
    t.equal(total(samples, CLUSTER_METRIC_NAMES.retiredWorkers), 1)
    t.equal(total(samples, 'fixture_float_total'), before, `read ${i}: the total is what it was before the death`)
  }
})

t.test('a hung worker: the scrape answers within the timeout bound and names the missing worker', async (t) => {
  const fx = await startFixture(t)
  await sendRequests(fx.appPort, 80)
  const before = parseSamples((await get(fx.metricsPort, '/metrics')).body)
  t.equal(total(before, 'http_requests_total', { route: '/work' }), 80)

  const blocked = get(fx.appPort, '/block?ms=4000')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const started = Date.now()
  const res = await get(fx.metricsPort, '/metrics')
  const elapsed = Date.now() - started
  t.equal(res.status, 200)
  // Documented bound: timeoutMs (here 500 ms) plus the aggregation; 1500 ms leaves room for a loaded machine.
  t.ok(elapsed < TIMEOUT_MS + 1500, `answered in ${elapsed} ms (timeout ${TIMEOUT_MS} ms)`)
  const samples = parseSamples(res.body)
  t.equal(total(samples, CLUSTER_METRIC_NAMES.workersMissing), 1, 'one worker missing')
  const down = samples.filter((s) => s.name === CLUSTER_METRIC_NAMES.workerUp && s.value === 0).map((s) => Number(s.labels.worker))
  t.equal(total(samples, 'http_requests_total', { route: '/work' }), 80, 'the hung worker\'s last counts are kept: no drop')

  const hung = JSON.parse((await blocked).body) as { blocked: boolean, worker: number }
  t.equal(hung.blocked, true)
  // The worker that ran /block is the one reported down; it answers again afterwards.
  const after = parseSamples((await get(fx.metricsPort, '/metrics')).body)
  t.same(down, [hung.worker], 'the worker running /block is the one reported down')
  t.equal(total(after, CLUSTER_METRIC_NAMES.workersMissing), 0, 'the worker answers again once its loop is free')
  t.equal(total(after, 'http_requests_total', { route: '/block' }), 1)
})

t.test('clusterMetrics() rejects bad options with a coded error', async (t) => {
  t.ok(cluster.isPrimary)
  for (const bad of [{ timeoutMs: 0 }, { timeoutMs: 'x' }, { rules: { a: 'avg' } }, { port: 70000 }, { path: 'metrics' }, { colour: 1 }]) {
    t.throws(() => clusterMetrics(bad as never), { code: 'O11Y_ERR_METRICS_CLUSTER' }, JSON.stringify(bad))
  }
  const m = clusterMetrics({ rules: { my_gauge: 'max' } })
  t.teardown(() => m.close())
  // No workers: the aggregate holds only the primary's own metrics.
  const text = await m.render('openmetrics')
  t.match(text, /o11y_metrics_cluster_workers 0\n/)
  t.match(text, /# EOF\n$/)
})

t.test('aggregation rules', async (t) => {
  t.equal(ruleFor({ name: 'http_requests_total', type: 'counter' }, {}), 'sum')
  t.equal(ruleFor({ name: 'process_cpu_seconds_total', type: 'counter' }, {}), 'worker')
  t.equal(ruleFor({ name: 'queue_depth', type: 'gauge', aggregator: 'max' }, {}), 'max')
  t.equal(ruleFor({ name: 'queue_depth', type: 'gauge', aggregator: 'average' }, {}), 'worker')
  t.equal(ruleFor({ name: 'queue_depth', type: 'gauge' }, { queue_depth: 'min' }), 'min')
  t.equal(ruleFor({ name: 'latency', type: 'summary' }, {}), 'worker')
})

t.test('cluster: true outside a worker warns once with a code and serves this process', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { cluster: true }, { logger: { level: 'warn', stream: logs.stream } })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.body, /http_requests_total\{method="GET",route="\/x",status_code="200"\} 1/)
  t.equal(logs.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_CLUSTER_NOT_WORKER').length, 1)
})

t.test('cluster must be a boolean', async (t) => {
  await t.rejects(buildApp(t, { cluster: 'yes' as never }), { code: 'O11Y_ERR_METRICS_BOOLEAN' })
})
