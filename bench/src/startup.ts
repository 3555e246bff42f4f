import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { spread, type Spread } from './stats'

/** The compiled start-up app (ESM) and the folder whose node_modules resolve the `--import` entries. */
export const STARTUP_APP = resolve(__dirname, '..', 'dist', 'startup-app.mjs')
const BENCH_DIR = resolve(__dirname, '..')
const MARKER = 'BENCH_LISTENING '

export type StartupVariantId = 'bare' | 'o11y-tracing' | 'otel-auto'

export interface StartupVariant {
  id: StartupVariantId
  label: string
  /** Node flags before the app. */
  nodeArgs: string[]
}

export const STARTUP_VARIANTS: readonly StartupVariant[] = [
  { id: 'bare', label: 'Fastify + pg', nodeArgs: [] },
  { id: 'o11y-tracing', label: '--import @o11y/tracing/register', nodeArgs: ['--import', '@o11y/tracing/register'] },
  { id: 'otel-auto', label: '--import @opentelemetry/auto-instrumentations-node/register', nodeArgs: ['--import', '@opentelemetry/auto-instrumentations-node/register'] }
]

/**
 * The same for every variant: no exporter of any signal, so that nothing waits on or retries a
 * collector (`none` is what both register entries document for that).
 */
export const STARTUP_ENV: Readonly<Record<string, string>> = {
  OTEL_SERVICE_NAME: 'bench-startup',
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none'
}

export interface StartupRun {
  variant: StartupVariantId
  repetition: number
  /** Milliseconds from process start to listening (the app's `performance.now()` after listen). */
  listenMs: number
  /** Peak resident set size (VmHWM of /proc/<pid>/status) once listening. */
  peakRssBytes: number
  /** Whether the app ran its query against DATABASE_URL. */
  queried: boolean
}

/** Peak resident set size of a process, from /proc/<pid>/status. */
export function peakRssBytes (pid: number): number {
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? Number.NaN : Number(match[1]) * 1024
}

/** Start the app once with a variant's flags, wait until it listens, read its peak RSS, stop it. */
export async function startOnce (variant: StartupVariant, repetition: number, options: { cpu?: number, timeoutMs?: number } = {}): Promise<StartupRun> {
  const nodeArgs = [...variant.nodeArgs, STARTUP_APP]
  const [command, args] = options.cpu === undefined
    ? [process.execPath, nodeArgs]
    : ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgs]]
  const child = spawn(command, args, { cwd: BENCH_DIR, env: { ...process.env, ...STARTUP_ENV }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000) })
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`@o11y/bench: start-up ${variant.id} did not listen within ${options.timeoutMs ?? 60000} ms\n${stderr}`)), options.timeoutMs ?? 60000)
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s
        const at = out.indexOf(MARKER)
        const end = out.indexOf('\n', at)
        if (at >= 0 && end > at) {
          clearTimeout(timer)
          resolve(out.slice(at + MARKER.length, end))
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`@o11y/bench: start-up ${variant.id} exited (${code ?? signal}) before listening\n${stderr}`))
      })
    })
    const reported = JSON.parse(line) as { listenMs: number, queried: boolean }
    return { variant: variant.id, repetition, listenMs: reported.listenMs, peakRssBytes: peakRssBytes(child.pid as number), queried: reported.queried }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}

export interface StartupSummary {
  variant: StartupVariantId
  label: string
  runs: number
  listenMs: Spread
  peakRssMiB: Spread
  /** Per repetition against the bare run of the same repetition. */
  addedMs: Spread
  addedRssMiB: Spread
}

export interface StartupResult {
  repetitions: number
  queried: boolean
  runs: StartupRun[]
  summaries: StartupSummary[]
  /** Per repetition: time added by ours / time added by the auto-instrumentations register. */
  addedTimeRatio: Spread
}

/** Per repetition: `f(run of the variant, bare run of the same repetition)`. */
function paired (runs: readonly StartupRun[], variant: StartupVariantId, f: (run: StartupRun, bare: StartupRun) => number): Map<number, number> {
  const bare = new Map(runs.filter((r) => r.variant === 'bare').map((r) => [r.repetition, r]))
  const out = new Map<number, number>()
  for (const r of runs) {
    const ref = bare.get(r.repetition)
    if (r.variant === variant && ref !== undefined) out.set(r.repetition, f(r, ref))
  }
  return out
}

const addedMs = (r: StartupRun, b: StartupRun): number => r.listenMs - b.listenMs

export function summarizeStartup (runs: readonly StartupRun[]): StartupResult {
  const summaries = STARTUP_VARIANTS.filter((v) => runs.some((r) => r.variant === v.id)).map((v) => {
    const mine = runs.filter((r) => r.variant === v.id)
    return {
      variant: v.id,
      label: v.label,
      runs: mine.length,
      listenMs: spread(mine.map((r) => r.listenMs)),
      peakRssMiB: spread(mine.map((r) => r.peakRssBytes / 2 ** 20)),
      addedMs: spread([...paired(runs, v.id, addedMs).values()]),
      addedRssMiB: spread([...paired(runs, v.id, (r, b) => (r.peakRssBytes - b.peakRssBytes) / 2 ** 20).values()])
    }
  })
  const ours = paired(runs, 'o11y-tracing', addedMs)
  const ratios = [...paired(runs, 'otel-auto', addedMs)].map(([rep, theirs]) => (ours.get(rep) ?? Number.NaN) / theirs)
  return {
    repetitions: Math.max(0, ...runs.map((r) => r.repetition + 1)),
    queried: runs.some((r) => r.queried),
    runs: [...runs],
    summaries,
    addedTimeRatio: spread(ratios)
  }
}

/**
 * `repetitions` rounds; in each, every variant starts once (order rotated per round, so that no
 * variant always follows another's disk-cache warm-up). With `warmup`, one unmeasured start of
 * each first (the page cache then holds every file all variants read).
 */
export async function measureStartup (options: { repetitions: number, warmup: boolean, cpu?: number, log?: (line: string) => void }): Promise<StartupResult> {
  if (options.warmup) {
    for (const v of STARTUP_VARIANTS) await startOnce(v, -1, { cpu: options.cpu })
  }
  const runs: StartupRun[] = []
  for (let rep = 0; rep < options.repetitions; rep++) {
    const order = STARTUP_VARIANTS.map((_, i) => STARTUP_VARIANTS[(i + rep) % STARTUP_VARIANTS.length]!)
    for (const v of order) {
      const run = await startOnce(v, rep, { cpu: options.cpu })
      runs.push(run)
      options.log?.(`start-up ${rep + 1}/${options.repetitions} ${v.id.padEnd(12)} listening after ${run.listenMs.toFixed(0).padStart(5)} ms, peak RSS ${(run.peakRssBytes / 2 ** 20).toFixed(1)} MiB`)
    }
  }
  return summarizeStartup(runs)
}
