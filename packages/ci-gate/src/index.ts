export { run, VERSION, HELP, parseFormats } from './run'
export { analyzeFile, scanRegistrations } from './analyzer'
export type { AnalyzeInput, FileAnalysis, FileRules, Registrations } from './analyzer'
export { loadConfig, CONFIG_SCHEMA, Settings } from './config'
export { RULES, RULE_IDS, loadRules } from './registry'
export type { Rule, RuleMeta, RuleDocs, Problem } from './rule-types'
export type { FileView } from './view/index'
export { render, formatStylish, formatJson, formatGithub, formatSarif, escapeData, escapeProperty, SARIF_SCHEMA_URI } from './reporters/index'
export { parseDiff } from './git'
export { readBaseline, renderBaseline } from './baseline'
export { GateError, ERROR_CODES, ERROR_MESSAGES } from './errors'
export type { GateErrorCode, GateErrorKey } from './errors'
export {
  CATEGORIES, SEVERITIES, FORMATS, CONFIG_FILE, PACKAGE_JSON_KEY, SUPPRESSION_DIRECTIVE,
  DEFAULT_EXCLUDES, FINGERPRINT_KEY, PR_COMMENT_MARKER, TOOL_NAME, CLI_FLAGS
} from './constants'
export type { RuleId, Category, Severity, SeverityOrOff, FormatName } from './constants'
export type { Finding, HandlerCoverage, Report, GateConfig, Override, RequiredCategories, RunIO, GateResult } from './types'
