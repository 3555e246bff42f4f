import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EXIT, finish, lines, type RunResult } from '@o11y/cli-kit'
import { CLI } from './constants'
import { ERROR_CODES, SloError, isSloError } from './errors'
import { checkFiles, generateFiles, writeFiles, type GeneratedFile } from './generate'
import { loadSpec } from './spec'

export const USAGE = `Usage: ${CLI.name} <command> --${CLI.flags.spec} <file> [--${CLI.flags.spec} <file> ...] [--${CLI.flags.outDir} <dir>]

Commands:
  generate   write the recording and alerting rules, their promtool tests and the
             error-budget dashboard of each spec under --${CLI.flags.outDir}
  check      exit 1 when the files under --${CLI.flags.outDir} are not what the specs generate
  validate   validate the specs only

Options:
  --${CLI.flags.spec} <file>     SLO spec (YAML), repeatable; required
  --${CLI.flags.outDir} <dir>  directory that holds prometheus/ and grafana/; required by generate and check
  --${CLI.flags.debug}             print stack traces of errors
  --${CLI.flags.help}              show this help

Exit codes: 0 done, 1 generated files out of date (check), 2 usage or spec error.`

function usageError (message: string): SloError {
  return new SloError(ERROR_CODES.USAGE, `${message} (run \`${CLI.name} --${CLI.flags.help}\`)`)
}

/** Run the CLI without touching the process: returns the exit code and what to print. */
export function run (argv: string[]): RunResult {
  const stdout: string[] = []
  const stderr: string[] = []
  const { exitCode } = execute(argv, stdout, stderr)
  return { exitCode, stdout: lines(stdout), stderr: lines(stderr) }
}

function execute (argv: string[], stdout: string[], stderr: string[]): Pick<RunResult, 'exitCode'> {
  let debug = argv.includes(`--${CLI.flags.debug}`)
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        [CLI.flags.spec]: { type: 'string', multiple: true },
        [CLI.flags.outDir]: { type: 'string' },
        [CLI.flags.help]: { type: 'boolean', short: 'h' },
        [CLI.flags.debug]: { type: 'boolean' }
      }
    })
    debug = values[CLI.flags.debug] === true
    if (values[CLI.flags.help] === true) {
      stdout.push(USAGE)
      return { exitCode: EXIT.OK }
    }
    const [command, ...extra] = positionals
    if (command === undefined) throw usageError('missing command: one of ' + CLI.commands.join(', '))
    if (!(CLI.commands as readonly string[]).includes(command)) throw usageError(`unknown command "${command}": use one of ${CLI.commands.join(', ')}`)
    if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`)
    const specFiles = (values[CLI.flags.spec] ?? []) as string[]
    if (specFiles.length === 0) throw usageError(`--${CLI.flags.spec} <file> is required`)
    const outDir = values[CLI.flags.outDir] as string | undefined
    if (command !== 'validate' && outDir === undefined) throw usageError(`--${CLI.flags.outDir} <dir> is required by ${command}`)

    const specs = specFiles.map((file) => ({ file, spec: loadSpec(file) }))
    const services = new Map<string, string>()
    for (const { file, spec } of specs) {
      const other = services.get(spec.service)
      if (other !== undefined) {
        throw new SloError(ERROR_CODES.DUPLICATE_NAME, `service "${spec.service}" is also defined in ${other}; the generated files would overwrite each other`, { file, path: 'service' })
      }
      services.set(spec.service, file)
    }
    if (command === 'validate') {
      for (const { file, spec } of specs) stdout.push(`${file}: ok (${spec.service}, ${spec.slos.length} SLOs)`)
      return { exitCode: EXIT.OK }
    }
    const dir = outDir as string
    const files: GeneratedFile[] = specs.flatMap(({ file, spec }) => generateFiles(spec, { specFile: file, outDir: dir }))
      .sort((a, b) => a.path.localeCompare(b.path))
    if (command === 'generate') {
      for (const written of writeFiles(dir, files)) stdout.push(`wrote ${written}`)
      return { exitCode: EXIT.OK }
    }
    const stale = checkFiles(dir, files).filter((entry) => entry.status !== 'up-to-date')
    for (const entry of stale) stdout.push(`${entry.status}: ${join(dir, entry.path)}`)
    if (stale.length > 0) {
      stderr.push(`${CLI.name}: ${stale.length} generated file(s) out of date; run \`${CLI.name} generate ${specFiles.map((f) => `--${CLI.flags.spec} ${f}`).join(' ')} --${CLI.flags.outDir} ${dir}\``)
      return { exitCode: EXIT.FINDINGS }
    }
    stdout.push(`${files.length} generated files up to date`)
    return { exitCode: EXIT.OK }
  } catch (err) {
    if (isSloError(err)) {
      stderr.push(`${err.message} [${err.code}]`)
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.push(`${usageError((err as Error).message).message} [${ERROR_CODES.USAGE}]`)
    } else {
      stderr.push(`${CLI.name}: ${(err as Error).message}`)
    }
    if (debug && err instanceof Error && err.stack) stderr.push(err.stack)
    return { exitCode: EXIT.USAGE }
  }
}

/** Entry point of the `o11y-slo` bin. */
export function main (argv: string[] = process.argv.slice(2)): void {
  finish(run(argv))
}
