// The harness the end-to-end test stands on: Verdaccio start/stop, users, process helpers.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanEnv, freePort, runCommand, startApp, startVerdaccio, strayFiles, verdaccioConfig, waitFor } from '../src/index'

const env = cleanEnv(process.env)

t.test('verdaccio config serves the scope locally and proxies everything else', async (t) => {
  const yaml = verdaccioConfig('/s', '/h', 'https://registry.example/', '@o11y')
  const scopeBlock = yaml.split("  '@o11y/*':")[1]!.split("  '**':")[0]!
  t.notMatch(scopeBlock, /proxy:/, 'no uplink for @o11y')
  t.match(yaml.split("  '**':")[1]!, /proxy: upstream/, 'other packages go through the uplink')
  t.match(yaml, /url: "https:\/\/registry\.example\/"/)
})

t.test('verdaccio starts, creates users, refuses a taken name, and stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-verdaccio-'))
  const registry = await startVerdaccio({ dir, uplink: 'http://127.0.0.1:9/' })
  t.teardown(async () => { await registry.stop(); rmSync(dir, { recursive: true, force: true }) })
  t.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const token = await registry.addUser('alice', 'alice-password-1')
  t.ok(token.length > 10, 'a token comes back')
  const whoami = await fetch(new URL('-/whoami', registry.url), { headers: { authorization: `Bearer ${token}` } })
  t.same(await whoami.json(), { username: 'alice' }, 'the token authenticates')
  await t.rejects(registry.addUser('alice', 'another-password-2'), /creating user alice .* failed: 401/, 'an existing name with another password is refused')
  const scoped = await fetch(new URL('@o11y%2fmetrics', registry.url))
  t.equal(scoped.status, 404, 'an unpublished @o11y package is not found (never proxied)')
  await registry.stop()
  await registry.stop()
  await t.rejects(fetch(new URL('-/ping', registry.url)), 'stopped registry no longer answers')
})

t.test('verdaccio start-up gives up with its output when it does not answer in time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-verdaccio-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await t.rejects(startVerdaccio({ dir, uplink: 'http://127.0.0.1:9/', startTimeoutMs: 1 }), /did not answer on http:\/\/127\.0\.0\.1:\d+\/ within 1 ms/)
})

t.test('freePort returns a bindable port', async (t) => {
  const port = await freePort()
  t.ok(port > 0 && port < 65536)
})

t.test('cleanEnv drops the test runner and pnpm variables', async (t) => {
  const out = cleanEnv({ PATH: '/bin', NODE_OPTIONS: '--import x', npm_config_registry: 'r', TAP_CHILD_ID: '1', _TAPJS_PROCESSINFO_X: 'y', NODE_V8_COVERAGE: '/c', HOME: '/root' })
  t.same(out, { PATH: '/bin', HOME: '/root' })
})

t.test('strayFiles allows dist, README, LICENSE, package.json and bin only', async (t) => {
  t.same(strayFiles(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'bin/cli.js'], { bin: { cli: './bin/cli.js' } }), [])
  t.same(strayFiles(['dist/index.js.map', 'src/index.ts', 'bin/cli.js'], { bin: './bin/cli.js' }), ['dist/index.js.map', 'src/index.ts'])
  t.same(strayFiles(['bin/x.js'], {}), ['bin/x.js'])
})

t.test('runCommand collects output and exit codes, and kills on timeout', async (t) => {
  const ok = await runCommand(process.execPath, ['-e', 'console.log("out"); console.error("err"); process.exit(3)'], { cwd: tmpdir(), env })
  t.same({ code: ok.code, stdout: ok.stdout, stderr: ok.stderr }, { code: 3, stdout: 'out\n', stderr: 'err\n' })
  const slow = await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { cwd: tmpdir(), env, timeoutMs: 200 })
  t.equal(slow.signal, 'SIGKILL')
  t.match(slow.stderr, /killed after 200 ms/)
})

t.test('startApp waits for the ready line, parses JSON lines, and stops', async (t) => {
  const script = 'console.log(JSON.stringify({ a: 1 })); console.log("not json"); console.log("{broken"); console.log("null"); console.error("ready on 1234"); setInterval(() => {}, 1000)'
  const app = await startApp(process.execPath, ['-e', script], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/ })
  t.equal(app.port, 1234)
  await waitFor(() => app.jsonLines().length > 0 ? true : undefined, 5000, 'output')
  t.same(app.jsonLines(), [{ a: 1 }])
  t.match(app.stdout(), /not json/)
  t.match(app.stderr(), /ready on 1234/)
  await app.stop()
  await app.stop()
})

t.test('startApp reports an app that exits or never gets ready', async (t) => {
  await t.rejects(startApp(process.execPath, ['-e', 'console.error("boom"); process.exit(1)'], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/ }), /exited before it was ready[\s\S]*boom/)
  await t.rejects(startApp(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/, timeoutMs: 300 }), /was not ready within 300 ms/)
})

t.test('waitFor gives up after its timeout', async (t) => {
  await t.rejects(waitFor(() => undefined, 50, 'nothing'), /timed out after 50 ms waiting for nothing/)
})

// A tiny HTTP server that prints its port, started through startApp.
const SERVER = "require('node:http').createServer((q, r) => r.end('up')).listen(0, '127.0.0.1', function () { console.error('ready on ' + this.address().port) })"

t.test('an app and a registry still running when the test process exits are killed with it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-orphans-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'orphans.ts')
  writeFileSync(script, [
    `import { startApp, startVerdaccio } from ${JSON.stringify(join(__dirname, '../src/index'))}`,
    'async function main (): Promise<void> {',
    `  const registry = await startVerdaccio({ dir: ${JSON.stringify(join(dir, 'registry'))}, uplink: 'http://127.0.0.1:9/' })`,
    `  const app = await startApp(process.execPath, ['-e', ${JSON.stringify(SERVER)}], { cwd: process.cwd(), env: {}, readyPattern: /ready on (\\d+)/ })`,
    '  console.log(JSON.stringify({ url: registry.url, port: app.port }))',
    '  process.exit(0)',
    '}',
    'void main()'
  ].join('\n'))
  // The same loaders as this process (tap's TypeScript import hook), so the child can run a .ts file.
  const res = await runCommand(process.execPath, [...process.execArgv, script], { cwd: dir, env: process.env, timeoutMs: 60_000 })
  t.equal(res.code, 0, `the child exited by itself\n${res.stderr}`)
  const { url, port } = JSON.parse(res.stdout.trim().split('\n').pop()!) as { url: string, port: number }
  await t.rejects(fetch(new URL('-/ping', url)), 'the registry died with the process that started it')
  await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'the app died with the process that started it')
})
