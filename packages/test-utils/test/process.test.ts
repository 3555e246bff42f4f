import { tmpdir } from 'node:os'
import t from 'tap'
import { runCommand, startProcess, waitFor, waitUntilReady } from '../src/index'

const node = process.execPath
// Without tap's loader and coverage in the children.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && k !== 'NODE_V8_COVERAGE' && !k.startsWith('TAP') && !k.startsWith('_TAPJS')))

t.test('runCommand collects output and the exit code', async (t) => {
  const res = await runCommand(node, ['-e', 'console.log("out"); console.error("err"); process.exit(3)'], { cwd: tmpdir(), env })
  t.same(res, { code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' })
})

t.test('runCommand kills the whole process group after its timeout, grandchildren holding the pipes included', async (t) => {
  // The child forks a grandchild that inherits stdout and sleeps: killing only the child would
  // leave the pipe open and runCommand waiting for a minute.
  const script = 'require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "inherit" }); setTimeout(() => {}, 60000)'
  const started = Date.now()
  const res = await runCommand(node, ['-e', script], { cwd: tmpdir(), env, timeoutMs: 300 })
  t.equal(res.signal, 'SIGKILL')
  t.match(res.stderr, /killed after 300 ms/)
  t.ok(Date.now() - started < 30_000, 'returned long before the grandchild would have exited')
})

t.test('runCommand rejects when the command cannot be started', async (t) => {
  await t.rejects(runCommand('/nonexistent/o11y-binary', [], { cwd: tmpdir(), env }), /ENOENT/)
})

t.test('startProcess: a process that ignores SIGTERM is killed after killAfterMs; stop is idempotent', async (t) => {
  const proc = startProcess(node, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'], { env, killAfterMs: 200 })
  await waitFor(() => proc.stdout().includes('up'), { timeoutMs: 10_000, description: 'the child' })
  t.equal(proc.running(), true)
  const [a, b] = await Promise.all([proc.stop(), proc.stop()])
  t.equal(a, null, 'ended by a signal')
  t.equal(b, null)
  t.equal(proc.child.signalCode, 'SIGKILL', 'SIGTERM was ignored, SIGKILL ended it')
  t.equal(proc.running(), false)
  t.equal(await proc.stop(), null, 'stopping a stopped process answers at once')
})

t.test('startProcess: stop with a function asks the process to end its own way', async (t) => {
  const proc = startProcess(node, ['-e', 'process.on("message", (m) => { if (m === "bye") process.exit(7) })'], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  t.equal(await proc.stop(() => proc.child.send('bye')), 7)
})

t.test('startProcess: a flood of output keeps only the tail in memory', async (t) => {
  const proc = startProcess(node, ['-e', 'for (let i = 0; i < 20000; i++) console.log("line " + i)'], { env, maxOutput: 10_000 })
  t.equal(await proc.exited, 0)
  await new Promise((r) => setImmediate(r))
  t.ok(proc.output().length <= 10_000, `kept ${proc.output().length} characters`)
  t.match(proc.stdout(), /line 19999\n$/, 'the tail is what is kept')
})

t.test('startProcess: a binary that does not exist exits with -1 and says why', async (t) => {
  const proc = startProcess('/nonexistent/o11y-binary', [], { env })
  t.equal(await proc.exited, -1)
  t.match(proc.output(), /spawn \/nonexistent\/o11y-binary failed: .*ENOENT/)
})

t.test('startProcess with group and killOnExit: stop ends the group and drops the exit hook', async (t) => {
  const before = process.listenerCount('exit')
  const proc = startProcess(node, ['-e', 'setInterval(() => {}, 1000)'], { env, group: true, killOnExit: true })
  t.equal(process.listenerCount('exit'), before + 1, 'an exit hook takes it along if this process dies')
  t.equal(proc.running(), true)
  t.equal(await proc.stop(), null)
  t.equal(process.listenerCount('exit'), before, 'the hook is gone once it exited')
})

t.test('waitUntilReady reports a process that exits first, or is not ready in time, with its output', async (t) => {
  const dies = startProcess(node, ['-e', 'console.error("boom"); process.exit(2)'], { env })
  await t.rejects(waitUntilReady(dies, () => false, { timeoutMs: 10_000, what: 'dier' }), /dier exited \(code 2\) before it was ready:\nboom/)
  const slow = startProcess(node, ['-e', 'console.log("starting"); setInterval(() => {}, 1000)'], { env })
  t.teardown(() => slow.stop())
  await t.rejects(waitUntilReady(slow, () => false, { timeoutMs: 200, what: 'sleeper' }), /sleeper was not ready within 200 ms/)
  let n = 0
  await waitUntilReady(slow, () => ++n === 3, { timeoutMs: 10_000, what: 'sleeper', intervalMs: 5 })
  t.equal(n, 3)
})
