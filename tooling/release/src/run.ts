import { runCommand, startProcess, waitUntilReady, type RunResult, type StartProcessOptions } from '@o11y/test-utils'

export { runCommand }
export type { RunResult }

export interface RunOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

/**
 * npm's signs of a registry it could not reach, rather than of a wrong request: connection and
 * certificate codes, 5xx answers, and a packument that never arrived (a registry uplink that failed
 * shows as `Found: <name>@undefined` in an ERESOLVE report). ETARGET, E404 and real conflicts are final.
 */
const TRANSIENT = /\b(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|ENETUNREACH|E5\d\d)\b|Found: \S+@undefined/

export interface NpmResult extends RunResult {
  /** How many times npm ran: more than one when the registry could not be reached. */
  attempts: number
}

/**
 * `npm <args>`, run again (up to `attempts` times, `delayMs` apart) while it fails because the
 * registry could not be reached: npm retries each request itself, but a registry or proxy outage
 * of a minute outlasts that. Any other failure is returned at once.
 */
export async function runNpm (args: string[], options: RunOptions, retry: { attempts?: number, delayMs?: number } = {}): Promise<NpmResult> {
  const attempts = retry.attempts ?? 3
  let res = await runCommand('npm', args, options)
  let n = 1
  while (n < attempts && res.code !== 0 && TRANSIENT.test(res.stdout + res.stderr)) {
    await new Promise((resolve) => setTimeout(resolve, retry.delayMs ?? 15_000))
    res = await runCommand('npm', args, options)
    n++
  }
  return { ...res, attempts: n }
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
 * Starts a long-running server process in its own process group and waits for the line
 * `<readyPattern>` on stderr whose first capture group is the port it listens on.
 */
export async function startApp (cmd: string, args: string[], options: RunOptions & { readyPattern: RegExp }): Promise<App> {
  // killOnExit: if the test process exits without stopping it (a crash, a runner timeout), take it along.
  const processOptions: StartProcessOptions = { cwd: options.cwd, env: options.env, group: true, killOnExit: true, maxOutput: Number.MAX_SAFE_INTEGER }
  const app = startProcess(cmd, args, processOptions)
  const stop = async (): Promise<void> => { await app.stop() }
  const timeoutMs = options.timeoutMs ?? 30_000
  let port: number | undefined
  try {
    await waitUntilReady(app, () => {
      const m = options.readyPattern.exec(app.stderr())
      if (m?.[1]) port = Number(m[1])
      return port !== undefined
    }, { timeoutMs, what: `${cmd} ${args.join(' ')}` })
  } catch (err) {
    await stop()
    throw err
  }

  const jsonLines = (): Record<string, unknown>[] => app.stdout().split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return []
    try {
      const value: unknown = JSON.parse(line)
      return value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : []
    } catch {
      return []
    }
  })

  return { port: port as number, stdout: app.stdout, stderr: app.stderr, jsonLines, stop }
}
