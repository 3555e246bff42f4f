import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '@o11y/test-utils'
import { kustomize, must, requireKubectl, K8S_DIR, type Build } from './lib/k8s'
import { SERVICE_DIR, SERVICE_ENTRY, buildExists, childEnv, startProcess } from './lib/live'
import { run } from './lib/repo'

// The order service's Deployment run for real: its probe paths, port and metrics path, and what
// its probes answer while the database is away. (Apart from test/k8s.test.ts for tap's per-file
// time budget: each test starts the service.)

/** The first skip reason of several requirements (none in CI: a missing tool fails there). */
function needs (...options: Array<{ skip: false | string }>): { skip: false | string } {
  return options.find((o) => o.skip !== false) ?? { skip: false }
}

/** Outside CI an unbuilt tree skips with the command. */
function requireServiceBuild (): { skip: false | string } {
  if (buildExists() || process.env.CI) return { skip: false }
  return { skip: 'the order service is not built: run `pnpm build` first' }
}

/** The database test cuts a real PostgreSQL connection; without DATABASE_URL it skips (CI sets it). */
function requireDatabase (): { skip: false | string } {
  if (process.env.DATABASE_URL || process.env.CI) return { skip: false }
  return { skip: 'DATABASE_URL not set: the test needs a real PostgreSQL (postgres://postgres@127.0.0.1:5432/test here)' }
}

const builds = new Map<string, Build>()
function build (overlay: 'dev' | 'prod'): Build {
  let b = builds.get(overlay)
  if (!b) {
    b = kustomize(join(K8S_DIR, 'overlays', overlay))
    if (b.status !== 0) throw new Error(`kubectl kustomize overlays/${overlay}: ${b.stderr}`)
    builds.set(overlay, b)
  }
  return b
}

t.test('the probe paths, port and metrics path of the manifest answer on the real order service', needs(requireKubectl(), requireServiceBuild()), async (t) => {
  const deployment = must(build('dev').objects, 'Deployment', 'order-service')
  const container = deployment.spec.template.spec.containers[0]
  const monitor = must(build('dev').objects, 'ServiceMonitor', 'order-service')
  // The manifest's literal settings, with a free port and a private data folder instead of /data.
  const env: Record<string, string> = {}
  for (const e of container.env as Array<{ name: string, value?: string }>) {
    if (e.value !== undefined && !e.name.startsWith('OTEL_')) env[e.name] = e.value
  }
  const tmp = mkdtempSync(join(tmpdir(), 'o11y-k8s-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  // The real PostgreSQL when there is one (as in CI), else the embedded PGlite the dev overlay runs.
  const database: Record<string, string> = {}
  if (process.env.DATABASE_URL) {
    const schema = `k8s_manifest_${process.pid}`
    Object.assign(database, { DATABASE_URL: process.env.DATABASE_URL, DB_SCHEMA: schema })
    t.teardown(() => { run('psql', [process.env.DATABASE_URL as string, '-q', '-c', `DROP SCHEMA IF EXISTS ${schema} CASCADE`]) })
  }
  const port = await freePort()
  // The metrics port the ServiceMonitor scrapes (its port -> the Service's -> the container's) on a
  // free port; the token of the dev overlay's Secret in a file, as the pod has it mounted.
  const endpoint = monitor.spec.endpoints[0]
  const servicePort = must(build('dev').objects, 'Service', 'order-service').spec.ports.find((p: any) => p.name === endpoint.port)
  const containerPort = container.ports.find((p: any) => p.name === servicePort?.targetPort)
  t.equal(env.METRICS_PORT, String(containerPort?.containerPort), 'the manifest serves /metrics on the port the ServiceMonitor scrapes')
  const { name: secretName, key } = endpoint.authorization.credentials
  const secret = must(build('dev').objects, 'Secret', secretName)
  const token = Buffer.from(String((secret.data as Record<string, string>)[key]), 'base64').toString('utf8')
  const tokenFile = join(tmp, key)
  writeFileSync(tokenFile, token)
  const metricsPort = await freePort()
  const service = startProcess([SERVICE_ENTRY], SERVICE_DIR, childEnv({
    ...env, ...database, HOST: '127.0.0.1', PORT: String(port), O11Y_DATA_DIR: join(tmp, 'pglite'), LOG_LEVEL: 'warn',
    METRICS_PORT: String(metricsPort), METRICS_TOKEN_FILE: tokenFile
  }))
  t.teardown(() => service.stop())
  const url = (path: string): string => `http://127.0.0.1:${port}${path}`
  const startup = container.startupProbe
  // No timing assertion (machines here are shared): the wait is generous, the answer must be 200.
  await waitFor(async () => {
    const res = await fetch(url(startup.httpGet.path)).catch(() => undefined)
    await res?.arrayBuffer()
    return res?.status === 200
  }, { timeoutMs: 180_000, intervalMs: 250, description: `startup probe ${startup.httpGet.path}` })
    .catch((err: Error) => { throw new Error(`${err.message}\n${service.output().slice(-3000)}`) })
  for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
    const res = await waitFor(async () => {
      const r = await fetch(url(container[probe].httpGet.path), { signal: AbortSignal.timeout(30_000) })
      return r.status === 200 ? r : undefined
    }, { timeoutMs: 120_000, description: `${probe} 200` })
    t.equal(res.status, 200, `${probe} ${container[probe].httpGet.path} answers 200`)
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}${endpoint.path as string}`
  const anonymous = await fetch(metricsUrl)
  await anonymous.arrayBuffer()
  t.equal(anonymous.status, 401, 'the metrics port without the Secret\'s token: 401')
  const onApp = await fetch(url(endpoint.path), { headers: { authorization: `Bearer ${token}` } })
  await onApp.arrayBuffer()
  t.equal(onApp.status, 404, 'the http port has no /metrics')
  const metrics = await fetch(metricsUrl, { headers: { authorization: `${endpoint.authorization.type} ${token}`, accept: 'application/openmetrics-text; version=1.0.0' } })
  t.equal(metrics.status, 200)
  t.match(metrics.headers.get('content-type') ?? '', /openmetrics/, 'the service answers the OpenMetrics format the ServiceMonitor asks for')
  t.match(await metrics.text(), /http_requests_total|http_request_duration_seconds/)
})

t.test('while the database is unreachable, readiness fails and liveness holds (no restart storm)', needs(requireKubectl(), requireServiceBuild(), requireDatabase()), async (t) => {
  const databaseUrl = process.env.DATABASE_URL ?? ''
  t.ok(databaseUrl, 'DATABASE_URL is set (CI sets it)')
  const container = must(build('prod').objects, 'Deployment', 'order-service').spec.template.spec.containers[0]
  const target = new URL(databaseUrl)
  // A TCP proxy in front of PostgreSQL that the test can cut: a dead database peer.
  const sockets = new Set<Socket>()
  let accepting = true
  const proxy = createServer((client) => {
    if (!accepting) { client.destroy(); return }
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()) }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of sockets) s.destroy(); proxy.close() })
  const proxied = new URL(databaseUrl)
  proxied.hostname = '127.0.0.1'
  proxied.port = String((proxy.address() as AddressInfo).port)
  const schema = `k8s_probe_${process.pid}`
  t.teardown(() => { run('psql', [databaseUrl, '-q', '-c', `DROP SCHEMA IF EXISTS ${schema} CASCADE`]) })
  const port = await freePort()
  const service = startProcess([SERVICE_ENTRY], SERVICE_DIR, childEnv({
    HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: proxied.toString(), DB_SCHEMA: schema,
    DB_CONNECT_TIMEOUT_MS: '1000', LOG_LEVEL: 'error'
  }))
  t.teardown(() => service.stop())
  // Generous client timeouts (shared machines): the kubelet would count a slow answer as a failure
  // too, but the assertion is on what the service answers.
  const probe = async (p: 'readinessProbe' | 'livenessProbe'): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}${container[p].httpGet.path as string}`, { signal: AbortSignal.timeout(30_000) })
    await res.arrayBuffer()
    return res.status
  }
  await waitFor(async () => (await probe('readinessProbe').catch(() => 0)) === 200, { timeoutMs: 180_000, description: 'ready through the proxy' })
    .catch((err: Error) => { throw new Error(`${err.message}\n${service.output().slice(-3000)}`) })
  accepting = false
  for (const s of sockets) s.destroy()
  const readiness = await waitFor(async () => { const code = await probe('readinessProbe'); return code === 200 ? undefined : code },
    { timeoutMs: 120_000, description: 'readiness to fail' })
  t.equal(readiness, 503, `readiness ${container.readinessProbe.httpGet.path} answers 503: the pod leaves the Service`)
  for (let i = 0; i < container.livenessProbe.failureThreshold + 1; i++) {
    t.equal(await probe('livenessProbe'), 200, `liveness ${container.livenessProbe.httpGet.path} still 200 (check ${i + 1}): no restart`)
  }
  accepting = true
  await waitFor(async () => (await probe('readinessProbe')) === 200, { timeoutMs: 120_000, description: 'ready again after the database is back' })
  t.pass('ready again once the database answers')
})

