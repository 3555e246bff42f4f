import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface OtlpSink {
  /** Base URL, e.g. `http://127.0.0.1:4567`. */
  url: string
  /** Export requests received and body bytes read. */
  stats (): { exports: number, bytes: number }
  close (): Promise<void>
}

/**
 * An OTLP/HTTP receiver inside the scenario server: reads each export request and answers 200
 * with an empty protobuf body, decoding nothing. Its work is counted in the server's CPU, so a
 * scenario that exports into it measures an upper bound of the export's cost.
 */
export async function startOtlpSink (): Promise<OtlpSink> {
  let exports = 0
  let bytes = 0
  const server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => { bytes += chunk.length })
    req.on('end', () => {
      exports++
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ exports, bytes }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}
