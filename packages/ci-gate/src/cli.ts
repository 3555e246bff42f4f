// Entry point of the `o11y-gate` bin (bin/o11y-gate.js calls main()).

import { finish } from '@o11y/cli-kit'
import { run } from './run'

export function main (argv: string[] = process.argv.slice(2)): void {
  finish(run(argv, { cwd: process.cwd() }))
}
