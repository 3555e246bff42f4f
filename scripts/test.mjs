#!/usr/bin/env node
// Runs every workspace package's tests through turbo and ends with one plain line
// `N passed, N failed` (tap prints only `# { total: N, pass: N, fail: N }` per package), with the
// failing tests listed just above it. Exit code: non-zero when any assertion or any package's test
// task failed.
//
// Two phases: every package's `test` task, then the `test:load` tasks one at a time. A load suite
// measures throughput or latency against a quiet baseline, which holds only while no other suite
// competes for the cores. Arguments (e.g. `--filter=@o11y/metrics`) go to both phases.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createTally } from './test-summary.mjs'

const extra = process.argv.slice(2)
const phases = [
  // At most three packages' suites at once: each tap run already uses every core, and the suites
  // start real servers (Prometheus, Alertmanager, Verdaccio, PGlite) whose start-up suffers most
  // from an overloaded 2-core machine.
  ['turbo', 'run', 'test', '--continue', '--concurrency=3', '--output-logs=full', '--log-order=grouped', ...extra],
  ['turbo', 'run', 'test:load', '--continue', '--concurrency=1', '--output-logs=full', '--log-order=grouped', ...extra]
]
const tally = createTally()

function run (args) {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['exec', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      createInterface({ input: stream }).on('line', (line) => { out.write(line + '\n'); tally.scan(line) })
    }
    child.on('close', (code) => resolve(code ?? 1))
  })
}

let worst = 0
for (const args of phases) worst = Math.max(worst, await run(args))
const { text, failed } = tally.render()
process.stdout.write(text)
process.exit(worst !== 0 || failed > 0 ? 1 : 0)
