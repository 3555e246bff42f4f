import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import ts from 'typescript'
import { walk } from './files'

/**
 * Put on the line right before a fence, this HTML comment (invisible on GitHub and npm) says the
 * block is intentionally partial and is not type-checked: `<!-- ts-nocheck: why -->`.
 */
export const PARTIAL_MARKER = /^\s*<!--\s*ts-nocheck\b[^>]*-->\s*$/

export interface CodeBlock {
  /** Markdown file the block stands in, relative to the root it was found from. */
  file: string
  /** 1-based line of the block's first code line (the one after the opening fence). */
  line: number
  code: string
  /** The block carries the partial marker. */
  partial: boolean
}

export interface BlockProblem {
  file: string
  line: number
  /** TypeScript diagnostic code, e.g. 2339. */
  code: number
  message: string
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/
const TS_LANGS = new Set(['ts', 'typescript', 'mts', 'cts'])

/** The TypeScript blocks (```ts, ```typescript) of a Markdown text; other fences are passed over whole. */
export function extractBlocks (markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/)
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string)
    if (open === null) continue
    const fence = open[1] as string
    const lang = (open[2] ?? '').toLowerCase()
    let end = i + 1
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    while (end < lines.length && !closing.test(lines[end] as string)) end++
    if (TS_LANGS.has(lang)) {
      let before = i - 1
      while (before >= 0 && (lines[before] as string).trim() === '') before--
      blocks.push({
        file,
        line: i + 2,
        code: lines.slice(i + 1, end).join('\n'),
        partial: before >= 0 && PARTIAL_MARKER.test(lines[before] as string)
      })
    }
    // An unclosed fence runs to the end of the document (CommonMark).
    i = end
  }
  return blocks
}

/** Every README.md and every Markdown file in a `docs` folder below `root`, outside node_modules and build output. */
export function findDocs (root: string): string[] {
  return walk(root, (path) => basename(path) === 'README.md' || (path.endsWith('.md') && basename(dirname(path)) === 'docs'))
}

/** The TypeScript blocks of every document `findDocs` finds, with paths relative to `root`. */
export function collectBlocks (root: string): CodeBlock[] {
  return findDocs(root).flatMap((path) => extractBlocks(readFileSync(path, 'utf8'), relative(root, path).split(sep).join('/')))
}

/**
 * Type-checks every non-partial block as its own ES module (`.mts`, so top-level await works as in
 * an ESM application) under the repository's strict compiler options. The files are written to
 * `workDir`, which must lie where the packages a reader would install resolve (here the
 * @o11y/repo-checks package, whose dependencies are those packages), and removed afterwards.
 * Returns the problems with the Markdown file and line they belong to.
 */
export function checkBlocks (blocks: CodeBlock[], workDir: string, baseConfig: string): BlockProblem[] {
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })
  try {
    const byFile = new Map<string, CodeBlock>()
    blocks.filter((b) => !b.partial).forEach((block, n) => {
      const slug = `${block.file}-${block.line}`.replace(/[^A-Za-z0-9]+/g, '_')
      const path = join(workDir, `block${n}_${slug}.mts`)
      writeFileSync(path, block.code + '\n')
      byFile.set(path, block)
    })
    if (byFile.size === 0) return []
    const parsed = ts.parseJsonConfigFileContent({
      extends: baseConfig,
      compilerOptions: { noEmit: true, declaration: false, declarationMap: false, sourceMap: false },
      files: [...byFile.keys()]
    }, ts.sys, workDir)
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options })
    const problems: BlockProblem[] = []
    for (const d of [...parsed.errors, ...ts.getPreEmitDiagnostics(program)]) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      const block = d.file === undefined ? undefined : byFile.get(d.file.fileName)
      if (d.file !== undefined && block !== undefined && d.start !== undefined) {
        const { line } = d.file.getLineAndCharacterOfPosition(d.start)
        problems.push({ file: block.file, line: block.line + line, code: d.code, message })
      } else {
        // A problem outside the blocks (the configuration, a package's types) concerns them all.
        problems.push({ file: d.file?.fileName ?? '(compiler options)', line: 0, code: d.code, message })
      }
    }
    return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

/** `file:line TS2339 message`: what the test prints for a failing block. */
export function formatProblem (p: BlockProblem): string {
  return `${p.file}:${p.line} TS${p.code} ${p.message}`
}
