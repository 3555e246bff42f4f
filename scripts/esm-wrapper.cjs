'use strict'
// Usage (from a package folder, after tsc): node ../../scripts/esm-wrapper.cjs <defaultExportName>
//
// Writes dist/index.mjs and dist/index.d.mts: an ES-module face over the CommonJS build, so that
// `import plugin from '@o11y/<pkg>'` gives the plugin function (not the CommonJS exports object)
// both at run time and for TypeScript in ESM projects. It re-exports the one CommonJS instance, so
// there is no dual-package hazard. Shared by the packages whose default export is a Fastify plugin.
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')

const defaultName = process.argv[2]
if (!defaultName) {
  process.stderr.write('usage: node scripts/esm-wrapper.cjs <defaultExportName>\n')
  process.exit(2)
}
const dist = join(process.cwd(), 'dist')
const cjs = require(join(dist, 'index.js'))
if (typeof cjs[defaultName] !== 'function' || cjs.default !== cjs[defaultName]) {
  process.stderr.write(`esm-wrapper: dist/index.js must export ${defaultName} as a function and as default\n`)
  process.exit(1)
}
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule').sort()
writeFileSync(join(dist, 'index.mjs'), [
  "import cjs from './index.js'",
  `export const { ${names.join(', ')} } = cjs`,
  'export default cjs.default',
  ''
].join('\n'))
writeFileSync(join(dist, 'index.d.mts'), [
  "export * from './index.js'",
  `import { ${defaultName} } from './index.js'`,
  `export default ${defaultName}`,
  ''
].join('\n'))
