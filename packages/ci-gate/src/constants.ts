// Every name a user of o11y-gate sees (CLI flags, config keys, file names, the SARIF
// fingerprint key, the PR comment marker) is defined here once and documented in README.md. Rule
// ids are the file names of the rule modules (src/rules).

export const TOOL_NAME = 'o11y-gate'
export const PACKAGE_NAME = '@o11y/ci-gate'
/**
 * The package's README, from its package.json `homepage` (derived from the root package.json's by
 * scripts/project-urls.mjs). SARIF's informationUri; each rule's helpUri is `#<docs anchor>` of it.
 */
export const INFORMATION_URI: string = (require('../package.json') as { homepage: string }).homepage

/** A rule's id: the file name of its module in src/rules (see registry.ts). */
export type RuleId = string

export const CATEGORIES = ['tracing', 'metrics', 'logging'] as const
export type Category = typeof CATEGORIES[number]

export const SEVERITIES = ['error', 'warning', 'off'] as const
export type SeverityOrOff = typeof SEVERITIES[number]
export type Severity = Exclude<SeverityOrOff, 'off'>

export const CONFIG_FILE = '.o11y-gate.json'
export const PACKAGE_JSON_KEY = 'o11yGate'

/** Inline suppression: `// o11y-gate-ignore <rule-id>: <reason>` on the line above or at the end of the line. */
export const SUPPRESSION_DIRECTIVE = 'o11y-gate-ignore'

export const FORMATS = ['stylish', 'json', 'github', 'sarif'] as const
export type FormatName = typeof FORMATS[number]

/** GitHub annotations per rule before the rest are summarised in one line. */
export const GITHUB_ANNOTATIONS_PER_RULE = 10

/** Key of the stable fingerprint in SARIF `partialFingerprints` and in baseline files. */
export const FINGERPRINT_KEY = 'o11yGate/v1'
export const BASELINE_VERSION = 1

/** Marker of the sticky pull-request comment written by .github/workflows/observability.yml. */
export const PR_COMMENT_MARKER = '<!-- o11y-gate-report -->'

export const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const

/** Excluded unless a config sets `"defaultExcludes": false`. */
export const DEFAULT_EXCLUDES = [
  '**/node_modules/**',
  '**/dist/**',
  '**/coverage/**',
  '**/.tap/**',
  '**/tap-snapshots/**',
  '**/*.d.ts',
  '**/*.d.mts',
  '**/*.d.cts',
  '**/*.test.*',
  '**/*.spec.*',
  '**/test/**',
  '**/tests/**',
  '**/__tests__/**',
  '**/fixtures/**',
  '**/generated/**',
  '**/*.generated.*',
  '**/*.gen.*'
] as const

/** A file whose first lines contain one of these is generated and skipped. */
export const GENERATED_MARKERS = ['@generated', 'DO NOT EDIT'] as const

export const CLI_FLAGS = {
  base: 'base',
  staged: 'staged',
  files: 'files',
  all: 'all',
  strict: 'strict',
  format: 'format',
  output: 'output',
  config: 'config',
  baseline: 'baseline',
  writeBaseline: 'write-baseline',
  debug: 'debug',
  help: 'help',
  version: 'version'
} as const

/** Packages whose registration `plugins-registered` looks for. */
export const O11Y_PACKAGES = {
  metrics: '@o11y/metrics',
  tracing: '@o11y/tracing',
  logging: '@o11y/logging'
} as const
