#!/usr/bin/env node
// Runs every workspace package's tests through turbo and ends with one plain line
// `N passed, N failed` (tap prints only `# { total: N, pass: N, fail: N }` per package).
// Exit code: non-zero when any assertion or any package's test task failed.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

// At most three packages' suites at once: each tap run already uses every core, and the suites
// start real servers (Prometheus, Alertmanager, Verdaccio, PGlite) whose start-up suffers most
// from an overloaded 2-core machine.
const args = ['turbo', 'run', 'test', '--continue', '--concurrency=3', '--output-logs=full', '--log-order=grouped', ...process.argv.slice(2)]
const child = spawn('pnpm', ['exec', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })

// tap's closing summary, optionally behind turbo's `pkg:test: ` prefix; whole line only, so test
// source echoed in failure output cannot count.
const SUMMARY = /^(?:(\S+):test: )?# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, todo: \d+)?(?:, skip: (\d+))?(?:, todo: \d+)? \}\s*$/
const FAILED_TASK = /^\s*Failed:\s+(\S+)#test\s*$/
const totals = { pass: 0, fail: 0, skip: 0 }
const failsByPackage = new Map()
const failedTasks = new Set()

function scan (line) {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  const m = SUMMARY.exec(plain)
  if (m) {
    totals.pass += Number(m[3] ?? 0)
    totals.fail += Number(m[4] ?? 0)
    totals.skip += Number(m[5] ?? 0)
    if (m[1]) failsByPackage.set(m[1], (failsByPackage.get(m[1]) ?? 0) + Number(m[4] ?? 0))
  }
  const f = FAILED_TASK.exec(plain)
  if (f) failedTasks.add(f[1])
}

for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
  createInterface({ input: stream }).on('line', (line) => { out.write(line + '\n'); scan(line) })
}

child.on('close', (code) => {
  // A package whose test task failed without a failing assertion (crash, coverage below its
  // threshold, a test file that did not load) still counts as one failure.
  let extra = 0
  for (const task of failedTasks) if (!failsByPackage.get(task)) extra++
  const failed = totals.fail + extra
  const skipped = totals.skip ? `, ${totals.skip} skipped` : ''
  process.stdout.write(`${totals.pass} passed, ${failed} failed${skipped}\n`)
  process.exit(code !== 0 || failed > 0 ? 1 : 0)
})
