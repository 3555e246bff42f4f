'use strict'
// Rewrites the rule table of README.md from the built rule modules (run `pnpm build` first).
const { readFileSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const { RULES } = require('../dist/registry.js')
const { withRuleTable } = require('../dist/rules-table.js')

const file = join(__dirname, '..', 'README.md')
writeFileSync(file, withRuleTable(readFileSync(file, 'utf8'), RULES))
