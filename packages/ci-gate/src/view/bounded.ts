// Whether a value is bounded by a declared set of values, so that using it as a metric label
// creates a fixed number of series: Fastify validated it against a JSON-schema `enum` (or
// `const`, or a TypeBox `Literal` union) in the route's schema, or TypeScript types it as a union
// of literals (route generics, a request type, an `as` cast, a typed variable, an enum). Syntax only:
// types and schemas are followed through same-file declarations, not across modules.

import ts from 'typescript'
import { memberChain, objectPropValue, propName, unwrap } from './ast'
import { localDeclaration, type FileFacts } from './facts'
import { routeOf, type Route } from './routes'

/** request member -> [route schema key(s), route generic key]. */
const PARTS: Record<string, { schema: string[], generic: string }> = {
  params: { schema: ['params'], generic: 'Params' },
  query: { schema: ['querystring', 'query'], generic: 'Querystring' },
  body: { schema: ['body'], generic: 'Body' },
  headers: { schema: ['headers'], generic: 'Headers' }
}
const MAX_DEPTH = 4

function typeDeclaration (facts: FileFacts, name: string): ts.TypeAliasDeclaration | ts.InterfaceDeclaration | ts.EnumDeclaration | undefined {
  for (const stmt of facts.sf.statements) {
    if ((ts.isTypeAliasDeclaration(stmt) || ts.isInterfaceDeclaration(stmt) || ts.isEnumDeclaration(stmt)) && stmt.name.text === name) return stmt
  }
  return undefined
}

function isLiteralType (t: ts.TypeNode): boolean {
  if (!ts.isLiteralTypeNode(t)) return false
  const l = t.literal
  return ts.isStringLiteral(l) || ts.isNumericLiteral(l) || l.kind === ts.SyntaxKind.TrueKeyword || l.kind === ts.SyntaxKind.FalseKeyword ||
    l.kind === ts.SyntaxKind.NullKeyword || ts.isPrefixUnaryExpression(l)
}

/** `'a' | 'b'`, an alias of it, a same-file enum, `boolean`, `(typeof LIST)[number]` of a literal `as const` array. */
export function isLiteralUnionType (facts: FileFacts, type: ts.TypeNode | undefined, depth = 0): boolean {
  if (type === undefined || depth > MAX_DEPTH) return false
  if (ts.isParenthesizedTypeNode(type)) return isLiteralUnionType(facts, type.type, depth + 1)
  if (isLiteralType(type) || type.kind === ts.SyntaxKind.BooleanKeyword) return true
  if (ts.isUnionTypeNode(type)) return type.types.every((t) => isLiteralUnionType(facts, t, depth + 1))
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const decl = typeDeclaration(facts, type.typeName.text)
    if (decl !== undefined && ts.isEnumDeclaration(decl)) return true
    if (decl !== undefined && ts.isTypeAliasDeclaration(decl)) return isLiteralUnionType(facts, decl.type, depth + 1)
    return false
  }
  if (ts.isTypeReferenceNode(type) && ts.isQualifiedName(type.typeName) && ts.isIdentifier(type.typeName.left)) {
    const decl = typeDeclaration(facts, type.typeName.left.text) // Status.Open
    return decl !== undefined && ts.isEnumDeclaration(decl)
  }
  if (ts.isIndexedAccessTypeNode(type) && type.indexType.kind === ts.SyntaxKind.NumberKeyword) {
    let obj = type.objectType
    while (ts.isParenthesizedTypeNode(obj)) obj = obj.type
    if (!ts.isTypeQueryNode(obj) || !ts.isIdentifier(obj.exprName)) return false
    const decl = localDeclaration(facts, obj.exprName)
    const init = decl?.initializer
    if (init === undefined || !ts.isAsExpression(init) || !ts.isTypeReferenceNode(init.type) || init.type.typeName.getText(facts.sf) !== 'const') return false
    const list = unwrap(init)
    return ts.isArrayLiteralExpression(list) && list.elements.every((e) => ts.isStringLiteralLike(e) || ts.isNumericLiteral(e))
  }
  return false
}

/** The type of member `key` of an object type (a type literal, or a same-file alias or interface). */
function memberType (facts: FileFacts, type: ts.TypeNode | undefined, key: string, depth = 0): ts.TypeNode | undefined {
  if (type === undefined || depth > MAX_DEPTH) return undefined
  let members: ts.NodeArray<ts.TypeElement> | undefined
  if (ts.isTypeLiteralNode(type)) members = type.members
  else if (ts.isParenthesizedTypeNode(type)) return memberType(facts, type.type, key, depth + 1)
  else if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const decl = typeDeclaration(facts, type.typeName.text)
    if (decl !== undefined && ts.isInterfaceDeclaration(decl)) members = decl.members
    else if (decl !== undefined && ts.isTypeAliasDeclaration(decl)) return memberType(facts, decl.type, key, depth + 1)
  }
  const member = members?.find((m) => m.name !== undefined && propName(m.name) === key)
  return member !== undefined && ts.isPropertySignature(member) ? member.type : undefined
}

/** A same-file object literal a name refers to (`schema: orderSchema`). */
function objectLiteral (facts: FileFacts, expr: ts.Expression | undefined, depth = 0): ts.ObjectLiteralExpression | undefined {
  if (expr === undefined || depth > MAX_DEPTH) return undefined
  const e = unwrap(expr)
  if (ts.isObjectLiteralExpression(e)) return e
  if (ts.isIdentifier(e)) return objectLiteral(facts, localDeclaration(facts, e)?.initializer, depth + 1)
  if (ts.isPropertyAccessExpression(e)) {
    const parent = objectLiteral(facts, e.expression, depth + 1)
    return parent !== undefined ? objectLiteral(facts, objectPropValue(parent, e.name.text), depth + 1) : undefined
  }
  return undefined
}

/** `{ enum: [...] }`, `{ const: x }`, `Type.Literal(x)`, `Type.Union([Type.Literal(a), ...])`, `Type.Enum(E)`. */
function isBoundedSchema (facts: FileFacts, expr: ts.Expression | undefined): boolean {
  if (expr === undefined) return false
  const e = unwrap(expr)
  if (ts.isCallExpression(e)) {
    const name = memberChain(e.expression).at(-1)
    if (name === 'Literal' || name === 'Enum') return true
    const first = e.arguments[0] !== undefined ? unwrap(e.arguments[0]) : undefined
    return name === 'Union' && first !== undefined && ts.isArrayLiteralExpression(first) && first.elements.every((el) => isBoundedSchema(facts, el))
  }
  const obj = objectLiteral(facts, e)
  if (obj === undefined) return false
  if (objectPropValue(obj, 'const') !== undefined) return true
  const list = objectPropValue(obj, 'enum')
  const values = list !== undefined ? unwrap(list) : undefined
  return values !== undefined && ts.isArrayLiteralExpression(values) && values.elements.length > 0
}

function schemaProperty (facts: FileFacts, partSchema: ts.Expression | undefined, key: string): ts.Expression | undefined {
  if (partSchema === undefined) return undefined
  const e = unwrap(partSchema)
  if (ts.isCallExpression(e) && memberChain(e.expression).at(-1) === 'Object') { // TypeBox Type.Object({ key: ... })
    const props = objectLiteral(facts, e.arguments[0])
    return props !== undefined ? objectPropValue(props, key) : undefined
  }
  const obj = objectLiteral(facts, e)
  const props = obj !== undefined ? objectLiteral(facts, objectPropValue(obj, 'properties')) : undefined
  return props !== undefined ? objectPropValue(props, key) : undefined
}

/** `request.<part>.<key>` of this route is bounded by its schema or its declared types. */
function routeBounds (facts: FileFacts, route: Route, part: string, key: string): boolean {
  const names = PARTS[part]
  if (names === undefined) return false
  const schema = route.options !== undefined ? objectLiteral(facts, objectPropValue(route.options, 'schema')) : undefined
  if (schema !== undefined && names.schema.some((s) => isBoundedSchema(facts, schemaProperty(facts, objectPropValue(schema, s), key)))) return true
  const generics: (ts.TypeNode | undefined)[] = [route.call.typeArguments?.[0]]
  const param = route.handler?.parameters[0]?.type
  if (param !== undefined && ts.isTypeReferenceNode(param)) generics.push(param.typeArguments?.[0])
  return generics.some((g) => isLiteralUnionType(facts, memberType(facts, memberType(facts, g, names.generic), key)))
}

/** The name of the request parameter of a route's handler. */
function requestName (route: Route): string | undefined {
  const p = route.handler?.parameters[0]
  return p !== undefined && ts.isIdentifier(p.name) ? p.name.text : undefined
}

/** `request.<part>.<key>` (or `(request.<part> as T).<key>`) -> bounded? undefined when it is not such an access. */
function accessBounded (facts: FileFacts, routes: readonly Route[], object: ts.Expression, key: string, at: ts.Node): boolean {
  if (ts.isParenthesizedExpression(object) || ts.isAsExpression(object) || ts.isSatisfiesExpression(object)) {
    let e: ts.Expression = object
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) {
      if ((ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) && isLiteralUnionType(facts, memberType(facts, e.type, key))) return true
      e = e.expression
    }
  }
  const chain = memberChain(object)
  const route = routeOf(routes, at)
  if (chain.length !== 2 || route === undefined || chain[0] !== requestName(route)) return false
  return routeBounds(facts, route, chain[1] as string, key)
}

/** Whether the value of `expr` (used at `at`) can only be one of a declared set. */
export function isBoundedValue (facts: FileFacts, routes: readonly Route[], expr: ts.Expression, at: ts.Node, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false
  for (let e: ts.Expression = expr; ;) {
    if ((ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) && isLiteralUnionType(facts, e.type)) return true
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression
    else break
  }
  const e = unwrap(expr)
  if (ts.isPropertyAccessExpression(e)) return accessBounded(facts, routes, e.expression, e.name.text, at)
  if (ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression)) return accessBounded(facts, routes, e.expression, e.argumentExpression.text, at)
  if (!ts.isIdentifier(e)) return false
  const decl = localDeclaration(facts, e)
  if (decl === undefined) return false
  if (ts.isIdentifier(decl.name)) {
    if (isLiteralUnionType(facts, decl.type)) return true
    return decl.initializer !== undefined && isBoundedValue(facts, routes, decl.initializer, at, depth + 1)
  }
  // const { status } = request.params  /  const { status: s }: { status: 'a' | 'b' } = ...
  if (!ts.isObjectBindingPattern(decl.name)) return false
  const el = decl.name.elements.find((b) => ts.isIdentifier(b.name) && b.name.text === e.text)
  const key = el?.propertyName !== undefined ? propName(el.propertyName) : e.text
  if (key === undefined) return false
  if (isLiteralUnionType(facts, memberType(facts, decl.type, key))) return true
  return decl.initializer !== undefined && accessBounded(facts, routes, decl.initializer, key, at)
}
