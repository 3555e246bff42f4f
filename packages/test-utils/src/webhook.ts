import { type AddressInfo } from 'node:net'
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { waitFor, type WaitForOptions } from './process'

/** One notification as Alertmanager's webhook receiver sends it. */
export interface WebhookNotification {
  receiver: string
  status: 'firing' | 'resolved'
  groupLabels: Record<string, string>
  commonLabels: Record<string, string>
  commonAnnotations: Record<string, string>
  alerts: Array<{ status: string, labels: Record<string, string>, annotations: Record<string, string> }>
  /** Path the notification was posted to (lets one receiver stand in for several). */
  path: string
}

export interface WebhookReceiver {
  /** Base URL, e.g. `http://127.0.0.1:40000`; post to any path under it. */
  url: string
  notifications: WebhookNotification[]
  waitFor: <T>(fn: () => Promise<T> | T, options?: WaitForOptions) => Promise<NonNullable<T>>
  close: () => Promise<void>
}

/** An HTTP server on 127.0.0.1:0 that records Alertmanager webhook notifications. */
export async function startWebhookReceiver (): Promise<WebhookReceiver> {
  const notifications: WebhookNotification[] = []
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<WebhookNotification, 'path'>
        notifications.push({ ...body, path: req.url ?? '/' })
        res.writeHead(200).end('ok')
      } catch {
        res.writeHead(400).end('bad json')
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    notifications,
    waitFor,
    close: async () => {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}
