import { spawn } from 'node:child_process'

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** Runs a command to completion and collects its output; never rejects on a non-zero exit. */
export async function runCommand (cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const timer = options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
        stderr += `\n[killed after ${options.timeoutMs} ms]\n`
        try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ }
      }, options.timeoutMs)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export interface App {
  port: number
  stdout: () => string
  stderr: () => string
  /** JSON objects printed on stdout, one per line (non-JSON lines are skipped). */
  jsonLines: () => Record<string, unknown>[]
  stop: () => Promise<void>
}

/**
 * Starts a long-running server process and waits for the line `<readyPattern>` on stderr whose
 * first capture group is the port it listens on.
 */
export async function startApp (cmd: string, args: string[], options: RunOptions & { readyPattern: RegExp }): Promise<App> {
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  let running = true
  // If the test process exits without stopping it (a crash, a runner timeout), take it along.
  const killOnExit = (): void => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running = false
    process.removeListener('exit', killOnExit)
    resolve()
  }))
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })

  const stop = async (): Promise<void> => {
    if (!running) return
    try { process.kill(-child.pid!, 'SIGTERM') } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }, 5000)
    await exited
    clearTimeout(timer)
  }

  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let port: number | undefined
  while (port === undefined) {
    const m = options.readyPattern.exec(stderr)
    if (m?.[1]) port = Number(m[1])
    else if (!running) throw new Error(`${cmd} ${args.join(' ')} exited before it was ready\nstdout:\n${stdout}\nstderr:\n${stderr}`)
    else if (Date.now() > deadline) {
      await stop()
      throw new Error(`${cmd} ${args.join(' ')} was not ready within ${options.timeoutMs ?? 30_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)
    } else await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const jsonLines = (): Record<string, unknown>[] => stdout.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return []
    try {
      const value: unknown = JSON.parse(line)
      return value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : []
    } catch {
      return []
    }
  })

  return { port, stdout: () => stdout, stderr: () => stderr, jsonLines, stop }
}

/** Polls `check` until it returns a value other than undefined, or gives up after `timeoutMs`. */
export async function waitFor<T> (check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
