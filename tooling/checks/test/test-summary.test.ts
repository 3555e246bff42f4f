import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'

const ROOT = resolve(__dirname, '..', '..', '..')
const FIXTURES = join(__dirname, 'fixtures', 'test-summary')
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8')

interface Phase { output: string, code: number }

/**
 * Runs scripts/test.mjs with a `pnpm` first on PATH that answers as turbo would: `test` for the
 * `turbo run test` phase, `load` (default: no load tasks, exit 0) for the `turbo run test:load` phase.
 */
function run (test: Phase, load: Phase = { output: '', code: 0 }): { status: number | null, stdout: string } {
  const bin = mkdtempSync(join(tmpdir(), 'o11y-test-summary-'))
  writeFileSync(join(bin, 'test.txt'), test.output)
  writeFileSync(join(bin, 'load.txt'), load.output)
  writeFileSync(join(bin, 'calls.txt'), '')
  writeFileSync(join(bin, 'pnpm'), [
    '#!/bin/sh',
    `echo "$*" >> '${join(bin, 'calls.txt')}'`,
    'case "$*" in',
    `  *test:load*) cat '${join(bin, 'load.txt')}'; exit ${load.code} ;;`,
    `  *) cat '${join(bin, 'test.txt')}'; exit ${test.code} ;;`,
    'esac',
    ''
  ].join('\n'))
  chmodSync(join(bin, 'pnpm'), 0o755)
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test.mjs'), '--filter=@o11y/x'], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    encoding: 'utf8'
  })
  calls = readFileSync(join(bin, 'calls.txt'), 'utf8').trim().split('\n')
  return { status: r.status, stdout: r.stdout }
}
let calls: string[] = []

t.test('a failing run: the failing tests are listed above the closing line, a failed task without a failing assertion counts once', async (t) => {
  const r = run({ output: fixture('fail.txt'), code: 1 })
  t.equal(r.status, 1)
  const lines = r.stdout.trimEnd().split('\n')
  t.equal(lines.at(-1), '46 passed, 2 failed, 1 skipped', 'the last line')
  t.same(lines.slice(-4, -1), [
    'failing tests:',
    '  not ok - @o11y/metrics: the app keeps >= 50% of its throughput',
    '  not ok - @o11y/metrics: test/scrape-load.test.ts # time=9000ms'
  ])
})

t.test('a passing run ends with the plain line only, and echoed source is no failure', async (t) => {
  const r = run({ output: fixture('pass.txt'), code: 0 })
  t.equal(r.status, 0)
  t.notMatch(r.stdout, /failing tests/)
  t.equal(r.stdout.trimEnd().split('\n').at(-1), '12 passed, 0 failed')
})

t.test('turbo failing with no summary at all still exits non-zero', async (t) => {
  const r = run({ output: '', code: 2 })
  t.equal(r.status, 1)
  t.equal(r.stdout.trimEnd().split('\n').at(-1), '0 passed, 0 failed')
})

t.test('a flood of failures: the list stops at 40 and says how many there were', async (t) => {
  const lines = Array.from({ length: 500 }, (_, i) => `@o11y/tracing:test:   not ok ${i + 1} - case ${i}`)
  const r = run({ output: `${lines.join('\n')}\n@o11y/tracing:test: # { total: 500, fail: 500 }\n`, code: 1 })
  t.equal(r.status, 1)
  const out = r.stdout.trimEnd().split('\n')
  t.equal(out.at(-1), '0 passed, 500 failed')
  t.equal(out.at(-42), 'failing tests (first 40 of 500):')
  t.equal(out.at(-2), '  not ok - @o11y/tracing: case 39')
})

t.test('two phases: every test task, then the load suites one at a time; both count, and the arguments reach both', async (t) => {
  const load = [
    '@o11y/metrics:test:load:     not ok 8 - 77.8% of the scrapes got a 200 (>= 90%)',
    '@o11y/metrics:test:load: # { total: 9, pass: 8, fail: 1 }',
    ' Failed:    @o11y/metrics#test:load'
  ].join('\n') + '\n'
  const r = run({ output: fixture('pass.txt'), code: 0 }, { output: load, code: 1 })
  t.equal(r.status, 1, 'a failing load suite fails the run')
  t.match(calls[0], /^exec turbo run test --continue --concurrency=3 .*--filter=@o11y\/x$/)
  t.match(calls[1], /^exec turbo run test:load --continue --concurrency=1 .*--filter=@o11y\/x$/)
  const out = r.stdout.trimEnd().split('\n')
  t.equal(out.at(-1), '20 passed, 1 failed', 'the failed load task is its failing assertion, not one more')
  t.equal(out.at(-2), '  not ok - @o11y/metrics: 77.8% of the scrapes got a 200 (>= 90%)')
})

t.test('a load task that fails without a failing assertion (it crashed) counts once, beside a test task of the same package that passed', async (t) => {
  const test = '@o11y/metrics:test: # { total: 5, pass: 5 }\n'
  const r = run({ output: test, code: 0 }, { output: ' Failed:    @o11y/metrics#test:load\n', code: 1 })
  t.equal(r.status, 1)
  t.equal(r.stdout.trimEnd().split('\n').at(-1), '5 passed, 1 failed')
})
