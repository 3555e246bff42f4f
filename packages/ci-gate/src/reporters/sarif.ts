// SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Paths are relative to the
// repository root (uriBaseId %SRCROOT%); fingerprints make alerts follow code that moves.

import { FINGERPRINT_KEY, INFORMATION_URI, TOOL_NAME } from '../constants'
import { RULES } from '../registry'
import type { Report } from '../types'

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json'

export function formatSarif (report: Report, version: string): string {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]))
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: TOOL_NAME,
          semanticVersion: version,
          informationUri: INFORMATION_URI,
          rules: RULES.map((r) => ({
            id: r.id,
            name: r.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
            shortDescription: { text: r.description.split(': ')[0] as string },
            fullDescription: { text: r.description },
            help: { text: r.fix, markdown: `**How to fix:** ${r.fix}` },
            helpUri: `${INFORMATION_URI.replace(/#.*$/, '')}#${r.docs.anchor}`,
            defaultConfiguration: { level: r.defaultSeverity },
            properties: { tags: ['observability'] }
          }))
        }
      },
      columnKind: 'utf16CodeUnits',
      results: report.findings.map((f) => ({
        ruleId: f.ruleId,
        ruleIndex: ruleIndex.get(f.ruleId),
        level: f.severity,
        message: { text: `${f.message}. ${f.fix}` },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: f.file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' },
            region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn }
          }
        }],
        partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint }
      }))
    }]
  }
  return JSON.stringify(log, null, 2) + '\n'
}
