// The closing lines of `pnpm test`: counts tap's per-package summaries and failed turbo tasks from
// the lines that pass by, then renders the failing tests and the one plain line `N passed, N failed`.

// tap's closing summary, optionally behind turbo's `pkg:test: ` prefix; whole line only, so test
// source echoed in failure output cannot count.
const SUMMARY = /^(?:(\S+):(test(?::load)?): )?# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, todo: \d+)?(?:, skip: (\d+))?(?:, todo: \d+)? \}\s*$/
const FAILED_TASK = /^\s*Failed:\s+(\S+#test(?::load)?)\s*$/
// A failing assertion or subtest. CI keeps only the tail of the output, so the tail must say which
// test failed, not only how many.
const NOT_OK = /^(?:(\S+):test(?::load)?: )?\s*not ok \d+ - (.*)$/
export const MAX_LISTED = 40

export function createTally () {
  const totals = { pass: 0, fail: 0, skip: 0 }
  // Failing assertions per turbo task (`pkg#test`, `pkg#test:load`).
  const failsByTask = new Map()
  const failedTasks = new Set()
  const notOk = []
  let notOkSeen = 0

  function scan (line) {
    // eslint-disable-next-line no-control-regex
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
    const m = SUMMARY.exec(plain)
    if (m) {
      totals.pass += Number(m[4] ?? 0)
      totals.fail += Number(m[5] ?? 0)
      totals.skip += Number(m[6] ?? 0)
      if (m[1]) {
        const task = `${m[1]}#${m[2]}`
        failsByTask.set(task, (failsByTask.get(task) ?? 0) + Number(m[5] ?? 0))
      }
      return
    }
    const n = NOT_OK.exec(plain)
    if (n) {
      notOkSeen++
      if (notOk.length < MAX_LISTED) notOk.push(n[1] ? `${n[1]}: ${n[2].trim()}` : n[2].trim())
      return
    }
    const f = FAILED_TASK.exec(plain)
    if (f) failedTasks.add(f[1])
  }

  /** The closing text and whether the run failed. */
  function render () {
    // A package whose test task failed without a failing assertion (crash, coverage below its
    // threshold, a test file that did not load) still counts as one failure.
    let extra = 0
    for (const task of failedTasks) if (!failsByTask.get(task)) extra++
    const failed = totals.fail + extra
    let text = ''
    if (notOk.length > 0) {
      const more = notOkSeen > notOk.length ? ` (first ${notOk.length} of ${notOkSeen})` : ''
      text += `\nfailing tests${more}:\n` + notOk.map((l) => `  not ok - ${l}\n`).join('')
    }
    const skipped = totals.skip ? `, ${totals.skip} skipped` : ''
    text += `${totals.pass} passed, ${failed} failed${skipped}\n`
    return { text, failed }
  }

  return { scan, render }
}
