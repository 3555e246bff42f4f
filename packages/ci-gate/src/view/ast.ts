// Small, rule-independent helpers over the TypeScript syntax tree. The gate parses only (no type
// checker): everything here reads the shape of the code.

import ts from 'typescript'
import { extname } from 'node:path'

export type FunctionNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration

export function scriptKindFor (file: string): ts.ScriptKind {
  const ext = extname(file).toLowerCase()
  return ext === '.js' || ext === '.mjs' || ext === '.cjs' ? ts.ScriptKind.JS : ts.ScriptKind.TS
}

export function parse (file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKindFor(file))
}

export function isFunctionNode (node: ts.Node): node is FunctionNode {
  return ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)
}

export function unwrap (expr: ts.Expression): ts.Expression {
  let e = expr
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) ||
    ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isAwaitExpression(e)) {
    e = e.expression
  }
  return e
}

export function propName (name: ts.PropertyName | ts.MemberName): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text
  return undefined
}

/** The member name a call calls (`a.b.c()` -> `c`, `f()` -> `f`). */
export function calleeName (call: ts.CallExpression): string | undefined {
  const callee = unwrap(call.expression)
  if (ts.isIdentifier(callee)) return callee.text
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text
  return undefined
}

/** Names along a member chain, outermost last: `request.log.info` -> ['request', 'log', 'info']. */
export function memberChain (expr: ts.Expression): string[] {
  const names: string[] = []
  let e: ts.Expression = unwrap(expr)
  for (;;) {
    if (ts.isPropertyAccessExpression(e)) {
      names.unshift(e.name.text)
      e = unwrap(e.expression)
    } else if (ts.isElementAccessExpression(e)) {
      const arg = e.argumentExpression
      names.unshift(ts.isStringLiteralLike(arg) ? arg.text : '[]')
      e = unwrap(e.expression)
    } else if (ts.isCallExpression(e)) {
      const inner = calleeName(e)
      names.unshift(`${inner ?? ''}()`)
      e = unwrap(e.expression)
      if (ts.isIdentifier(e)) return names
    } else if (ts.isIdentifier(e)) {
      names.unshift(e.text)
      return names
    } else if (e.kind === ts.SyntaxKind.ThisKeyword) {
      names.unshift('this')
      return names
    } else {
      return names
    }
  }
}

export function rootIdentifier (expr: ts.Expression): string | undefined {
  let e: ts.Expression = unwrap(expr)
  for (;;) {
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isCallExpression(e)) e = unwrap(e.expression)
    else if (ts.isIdentifier(e)) return e.text
    else return undefined
  }
}

export function lineOf (sf: ts.SourceFile, pos: number): number {
  return sf.getLineAndCharacterOfPosition(pos).line + 1
}

export function linesOf (sf: ts.SourceFile, node: ts.Node): [number, number] {
  return [lineOf(sf, node.getStart(sf)), lineOf(sf, node.getEnd())]
}

export function walk (node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node)
  ts.forEachChild(node, (child) => walk(child, visit))
}

export function normalizedText (sf: ts.SourceFile, node: ts.Node): string {
  return node.getText(sf).replace(/\s+/g, ' ').trim().slice(0, 160)
}

export function literalText (expr: ts.Expression | undefined): string | undefined {
  if (expr === undefined) return undefined
  const e = unwrap(expr)
  if (ts.isStringLiteralLike(e)) return e.text
  return undefined
}

export function objectProp (obj: ts.ObjectLiteralExpression, key: string): ts.ObjectLiteralElementLike | undefined {
  return obj.properties.find((p) => p.name !== undefined && propName(p.name) === key)
}

export function objectPropValue (obj: ts.ObjectLiteralExpression, key: string): ts.Expression | undefined {
  const p = objectProp(obj, key)
  if (p === undefined) return undefined
  if (ts.isPropertyAssignment(p)) return p.initializer
  if (ts.isShorthandPropertyAssignment(p)) return p.name
  return undefined
}

export function isInside (node: ts.Node, containers: ReadonlySet<ts.Node>): boolean {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) if (containers.has(n)) return true
  return false
}

export function fromPackage (specifier: string | undefined, pkg: string): boolean {
  return specifier !== undefined && (specifier === pkg || specifier.startsWith(pkg + '/'))
}

/** `require('m')`, `require('m').default` or `import('m')` -> `m`. */
export function requireSpecifier (expr: ts.Expression): string | undefined {
  let e = unwrap(expr)
  if (ts.isPropertyAccessExpression(e)) e = unwrap(e.expression) // require('m').default
  if (ts.isCallExpression(e) && e.arguments.length === 1) {
    const arg = e.arguments[0] as ts.Expression
    const callee = e.expression
    const isRequire = ts.isIdentifier(callee) && callee.text === 'require'
    const isImport = callee.kind === ts.SyntaxKind.ImportKeyword
    if ((isRequire || isImport) && ts.isStringLiteralLike(arg)) return arg.text
  }
  return undefined
}

export function enclosingFunctionName (node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name !== undefined) return n.name.getText()
    if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isVariableDeclaration(n.parent) && ts.isIdentifier(n.parent.name)) return n.parent.name.text
  }
  return ''
}
