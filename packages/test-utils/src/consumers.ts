import { execFileSync } from 'node:child_process'

export interface ConsumerExports {
  esm: string[]
  cjs: string[]
}

/**
 * Load a built package the way its users do: once with `import` from an ES module and once with
 * `require` from a CommonJS script, each in a fresh Node process started in `cwd` (a package can
 * import itself by name through its `exports` map). Returns the export names each consumer saw.
 */
export function loadAsConsumers (specifier: string, cwd: string): ConsumerExports {
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e',
    `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter(k => k !== 'default' && k !== 'module.exports' && k !== '__esModule').sort()))`],
  { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  const cjs = execFileSync(process.execPath, ['--input-type=commonjs', '-e',
    `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter(k => k !== 'default' && k !== '__esModule').sort()))`],
  { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return { esm: JSON.parse(lastLine(esm)) as string[], cjs: JSON.parse(lastLine(cjs)) as string[] }
}

function lastLine (text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? '[]'
}
