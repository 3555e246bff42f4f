import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { rmSync } from 'node:fs'

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolvePort(port))
    })
  })
}

export interface WaitForOptions {
  /** Give up after this many milliseconds (default 30000). */
  timeoutMs?: number
  /** Poll interval in milliseconds (default 250). */
  intervalMs?: number
  /** Describes what is awaited, used in the timeout error. */
  description?: string
}

/** Polls `fn` until it returns a truthy value, which is returned; a throw counts as not yet. */
export async function waitFor<T> (fn: () => Promise<T> | T, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const intervalMs = options.intervalMs ?? 250
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? 'condition'}${why}`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** The last `lines` lines of a process's output: what explains a failure. */
export function tail (text: string, lines = 30): string {
  return text.trim().split('\n').slice(-lines).join('\n')
}

export interface StartProcessOptions {
  cwd?: string
  /** The whole environment of the process (default: this process's). */
  env?: NodeJS.ProcessEnv
  /** Default `['ignore', 'pipe', 'pipe']`; output is collected only from piped streams. */
  stdio?: StdioOptions
  /**
   * Start the process in its own process group: stop() and kill() then signal the whole group,
   * so whatever it forked ends with it.
   */
  group?: boolean
  /** SIGKILL the process (its group with `group`) if this process exits while it still runs. */
  killOnExit?: boolean
  /** How long stop() waits after its signal before SIGKILL (default 5000 ms). */
  killAfterMs?: number
  /** Output kept in memory at the most, in characters; the tail is kept (default 200000). */
  maxOutput?: number
}

export interface ManagedProcess {
  child: ChildProcess
  /** stdout and stderr as they came, interleaved (the tail when longer than `maxOutput`). */
  output: () => string
  stdout: () => string
  stderr: () => string
  /** The exit code: null after a signal, -1 when the process could not be started. */
  exited: Promise<number | null>
  running: () => boolean
  /**
   * Ends the process: `signal` (default SIGTERM), or a function that asks it to end some other
   * way (an IPC message); SIGKILL after `killAfterMs`. Resolves with the exit code. Idempotent.
   */
  stop: (how?: NodeJS.Signals | (() => void)) => Promise<number | null>
}

/** Spawns a process, collects its output and offers one idempotent, bounded stop. */
export function startProcess (command: string, args: string[], options: StartProcessOptions = {}): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: options.group === true
  })
  const max = options.maxOutput ?? 200_000
  const texts = { output: '', stdout: '', stderr: '' }
  const keep = (key: 'stdout' | 'stderr') => (chunk: Buffer): void => {
    const text = chunk.toString('utf8')
    for (const k of ['output', key] as const) {
      texts[k] += text
      if (texts[k].length > max) texts[k] = texts[k].slice(-Math.floor(max / 2))
    }
  }
  child.stdout?.on('data', keep('stdout'))
  child.stderr?.on('data', keep('stderr'))
  let running = true
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (options.group === true && child.pid !== undefined) process.kill(-child.pid, sig)
      else child.kill(sig)
    } catch { /* already gone */ }
  }
  const killOnExit = (): void => signal('SIGKILL')
  if (options.killOnExit === true) process.once('exit', killOnExit)
  const exited = new Promise<number | null>((resolveExit) => {
    const done = (code: number | null): void => {
      running = false
      process.removeListener('exit', killOnExit)
      resolveExit(code)
    }
    child.once('exit', (code) => done(code))
    child.once('error', (err) => {
      texts.output += `\nspawn ${command} failed: ${err.message}`
      done(-1)
    })
  })
  let stopping: Promise<number | null> | undefined
  const stop = async (how: NodeJS.Signals | (() => void) = 'SIGTERM'): Promise<number | null> => {
    stopping ??= (async () => {
      if (!running) return await exited
      const timer = setTimeout(() => signal('SIGKILL'), options.killAfterMs ?? 5000)
      try {
        if (typeof how === 'function') how()
        else signal(how)
      } catch {
        signal('SIGKILL')
      }
      const code = await exited
      clearTimeout(timer)
      return code
    })()
    return await stopping
  }
  return { child, output: () => texts.output, stdout: () => texts.stdout, stderr: () => texts.stderr, exited, running: () => running, stop }
}

/**
 * Waits until `probe` answers true: rejects with the process's output when it exits first or the
 * time is up (the process is left running: the caller decides whether to stop it).
 */
export async function waitUntilReady (managed: ManagedProcess, probe: () => Promise<boolean> | boolean, options: { timeoutMs: number, what: string, intervalMs?: number }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await probe()) return
    if (!managed.running()) {
      throw new Error(`${options.what} exited (code ${String(await managed.exited)}) before it was ready:\n${tail(managed.output())}`)
    }
    if (Date.now() >= deadline) {
      throw new Error(`${options.what} was not ready within ${options.timeoutMs} ms:\n${tail(managed.output())}`)
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100))
  }
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs a command to completion in its own process group and collects its output; never rejects on
 * a non-zero exit. After `timeoutMs` the group is killed (SIGKILL) and stderr says so.
 */
export async function runCommand (command: string, args: string[], options: Omit<StartProcessOptions, 'group' | 'stdio'> & { timeoutMs?: number } = {}): Promise<RunResult> {
  const managed = startProcess(command, args, { maxOutput: Number.MAX_SAFE_INTEGER, ...options, group: true })
  let killed = ''
  const timer = options.timeoutMs === undefined
    ? undefined
    : setTimeout(() => {
      killed = `\n[killed after ${options.timeoutMs} ms]\n`
      void managed.stop('SIGKILL')
    }, options.timeoutMs)
  // 'close' rather than 'exit': all output has been read by then.
  const closed = new Promise<RunResult>((resolveRun, reject) => {
    managed.child.once('error', reject)
    managed.child.once('close', (code, signal) => resolveRun({ code, signal, stdout: managed.stdout(), stderr: managed.stderr() + killed }))
  })
  try {
    return await closed
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

/**
 * Starts `binary` on a free loopback port (`argsFor(port)` gives its arguments) and waits until
 * `GET /-/ready` answers 200, as Prometheus and Alertmanager do. Another process may take the port
 * between freePort() and the bind: then it tries again, up to three times. On failure the
 * temporary folder `dir` is removed and the error (with the binary's output) is thrown.
 */
export async function startOnFreePort (binary: string, dir: string, readyTimeoutMs: number | undefined, argsFor: (port: number) => string[], env?: Record<string, string>): Promise<{ managed: ManagedProcess, port: number, url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const managed = startProcess(binary, argsFor(port), { env: env === undefined ? process.env : { ...process.env, ...env } })
    try {
      await waitUntilReady(managed, async () => {
        const res = await fetch(`${url}/-/ready`).catch(() => undefined)
        await res?.arrayBuffer()
        return res?.status === 200
      }, { timeoutMs: readyTimeoutMs ?? 20_000, what: `${binary} at ${url}` })
      return { managed, port, url }
    } catch (err) {
      await managed.stop()
      if (attempt < 3 && managed.output().includes('address already in use')) continue
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }
}

/**
 * An idempotent stop and kill: the first call ends the process (SIGTERM, or SIGKILL for `kill`: a
 * crash, nothing flushed) and removes its temporary folder; later calls of either wait for that.
 */
export function stopAndRemove (managed: ManagedProcess, dir: string): { stop: () => Promise<void>, kill: () => Promise<void> } {
  let stopped: Promise<void> | undefined
  const end = (signal: NodeJS.Signals) => async () => {
    stopped ??= (async () => {
      await managed.stop(signal)
      rmSync(dir, { recursive: true, force: true })
    })()
    await stopped
  }
  return { stop: end('SIGTERM'), kill: end('SIGKILL') }
}
