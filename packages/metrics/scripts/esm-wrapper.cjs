'use strict'
// Writes dist/index.mjs and dist/index.d.mts: an ES-module face over the CommonJS build, so that
// `import o11yMetrics from '@o11y/metrics'` gives the plugin function (not the CommonJS exports
// object) both at run time and for TypeScript in ESM projects. It re-exports the one CommonJS
// instance, so there is no dual-package hazard.
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')

const dist = join(__dirname, '..', 'dist')
const names = Object.keys(require(join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule').sort()
writeFileSync(join(dist, 'index.mjs'), [
  "import cjs from './index.js'",
  `export const { ${names.join(', ')} } = cjs`,
  'export default cjs.default',
  ''
].join('\n'))
writeFileSync(join(dist, 'index.d.mts'), [
  "export * from './index.js'",
  "import { o11yMetrics } from './index.js'",
  'export default o11yMetrics',
  ''
].join('\n'))
