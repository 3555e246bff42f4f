import { invalidCursor } from './errors.js'

// The cursor is opaque to clients: the base64url of the last row's sequence number.

export function encodeCursor (seq: string): string {
  return Buffer.from(`s:${seq}`).toString('base64url')
}

export function decodeCursor (cursor: string): string {
  const match = /^s:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match?.[1]) throw invalidCursor()
  return match[1]
}
