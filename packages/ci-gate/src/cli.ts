// Entry point of the `o11y-gate` bin (bin/o11y-gate.js calls main()).

import { run } from './run'

export function main (argv: string[] = process.argv.slice(2)): void {
  const result = run(argv, { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr })
  // exitCode rather than exit(): output written to a pipe is flushed before the process ends.
  process.exitCode = result.exitCode
}
