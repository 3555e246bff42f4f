// What every o11y command-line tool returns and how it exits. `run(argv)` returns a RunResult and
// never touches the process; the bin's `main()` hands it to `finish()`. Zero dependencies, so
// that a CLI package depends on nothing heavier for sharing it.

/** Exit codes of every o11y CLI. */
export const EXIT = {
  /** Done, nothing to report (or only warnings). */
  OK: 0,
  /** The tool ran and found something that must fail the build (error findings, stale files). */
  FINDINGS: 1,
  /** The tool could not run: bad command line, configuration, input or environment. */
  USAGE: 2
} as const

export type ExitCode = typeof EXIT[keyof typeof EXIT]

export interface RunResult {
  exitCode: ExitCode
  /** What the tool prints on stdout (reports, findings), complete lines. */
  stdout: string
  /** Diagnostics and errors for stderr, complete lines. */
  stderr: string
}

export interface Streams {
  stdout: { write: (chunk: string) => unknown }
  stderr: { write: (chunk: string) => unknown }
  exitCode?: number | string | null
}

/**
 * Writes a result to the process and sets `process.exitCode` rather than calling `exit()`, so
 * output written to a pipe is flushed before the process ends.
 */
export function finish (result: RunResult, proc: Streams = process): void {
  if (result.stdout !== '') proc.stdout.write(result.stdout)
  if (result.stderr !== '') proc.stderr.write(result.stderr)
  proc.exitCode = result.exitCode
}

/** Lines joined for a stream: each ends with a newline; no lines, no output. */
export function lines (list: readonly string[]): string {
  return list.length === 0 ? '' : list.join('\n') + '\n'
}

export interface Manifest {
  repository?: string | { url?: string }
}

/**
 * The project's home URL from a package.json `repository` (`git+https://host/org/repo.git` ->
 * `https://host/org/repo`). Every package.json's repository is derived from the root
 * package.json `homepage` by scripts/project-urls.mjs, so this is that one URL.
 */
export function projectHome (manifest: Manifest): string {
  const repo = manifest.repository
  const url = typeof repo === 'string' ? repo : repo?.url
  const m = url === undefined ? null : /^(?:git\+)?(https:\/\/[^#?]+?)(?:\.git)?\/?$/.exec(url)
  if (m === null) throw new Error(`package.json has no https repository URL (got ${JSON.stringify(url)})`)
  return m[1] as string
}
