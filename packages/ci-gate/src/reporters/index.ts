import type { FormatName } from '../constants'
import type { Report } from '../types'
import { formatGithub } from './github'
import { formatJson } from './json'
import { formatSarif } from './sarif'
import { formatStylish } from './stylish'

export function render (format: FormatName, report: Report, version: string): string {
  switch (format) {
    case 'json': return formatJson(report, version)
    case 'github': return formatGithub(report)
    case 'sarif': return formatSarif(report, version)
    default: return formatStylish(report)
  }
}

export { formatGithub, escapeData, escapeProperty } from './github'
export { formatJson } from './json'
export { formatSarif, SARIF_SCHEMA_URI } from './sarif'
export { formatStylish } from './stylish'
