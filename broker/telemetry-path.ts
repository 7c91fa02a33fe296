// A device's PUBLISH on its own telemetry topic (QoS 0 or 1, not retained) is taken from the MQTT parser
// before Aedes' generic chain (handle → handlePublish → runSeries → authorizePublish → enqueuePublish →
// write → setImmediate → publish). That chain kept a dozen objects alive per message for as long as the
// message waited for its commit (a bound callback, closures and their contexts, the PUBACK packet, an
// Immediate); at ~120,000 msg/s those were promoted by the scavenger and collected by a mark-compact about
// eight times a second (performance.md, "Garbage collection under P1"). The steps are the same and run in
// the same order: the broker's authorizePublish hook (limits, rate, the commit), then the PUBACK, then
// publish (which for telemetry is broker/telemetry-fanout.ts), then the next socket read. Every other
// packet (QoS 2, retained, other topics, anything before the CONNACK) goes through Aedes as before. The
// telemetry frames themselves are read from the socket's bytes (telemetry-parse.ts), not by mqtt-packet.
import type { Duplex } from 'node:stream'
import type { Client, PublishPacket } from 'aedes'
import { type MqttParser, readTelemetryFirst } from './telemetry-parse.ts'

/** The parts of an Aedes client (lib/client.js) the parser's listener reads and advances. */
interface ParsingClient {
  _parser: MqttParser
  /** Packets of the current read still being handled; the socket is read again when it reaches 0. */
  _parsingBatch: number
  /** Counts one packet done (or reports its error) and reads the next chunk when none is left. */
  _nextBatch(error?: Error | null): void
  _keepaliveTimer: NodeJS.Timeout | null
  connected: boolean
  conn: Duplex
  /** Calls back once the connection drains, or with an error after the drain timeout has dropped it. */
  waitForDrain(callback: (error: Error | null) => void): void
  broker: {
    authorizePublish(client: Client, packet: PublishPacket, callback: (error?: Error | null) => void): void
    publish(packet: PublishPacket, client: Client, done: (error?: Error | null) => void): void
  }
}

/** PUBACK for a packet identifier: fixed header 0x40, remaining length 2 (valid in MQTT 3.1.1 and 5). */
function pubackFrame(messageId: number): Buffer {
  const frame = Buffer.allocUnsafe(4)
  frame[0] = 0x40
  frame[1] = 2
  frame.writeUInt16BE(messageId, 2)
  return frame
}

/** Takes over `topic`'s telemetry publishes of this connected client (left to Aedes if its parser differs). */
export function takeOverTelemetry(client: Client, topic: string): void {
  const c = client as unknown as ParsingClient
  const parser = c._parser
  const listeners = parser.listeners('packet')
  if (listeners.length !== 1) return
  const aedesEnqueue = listeners[0] as (this: unknown, packet: unknown) => void
  const next = (error?: Error | null) => c._nextBatch(error)
  const publish = (packet: PublishPacket) => c.broker.publish(packet, client, next)

  const handle = (packet: PublishPacket) => {
    c._parsingBatch++
    c._keepaliveTimer?.refresh()
    c.broker.authorizePublish(client, packet, (error) => {
      if (error) return next(error)
      if (packet.qos === 0) return publish(packet)
      if (!c.connected) return next(new Error('connection closed'))
      // As Aedes' write: past the connection's buffered limit, publish (and the next read) wait for drain.
      if (c.conn.write(pubackFrame(packet.messageId!))) return publish(packet)
      c.waitForDrain((drainError) => (drainError ? next(drainError) : publish(packet)))
    })
  }
  // Frames read by telemetry-parse.ts and those mqtt-packet parsed (a chunk that ended inside a telemetry
  // frame, MQTT 5) take the same check.
  const telemetryFirst = (packet: PublishPacket) => {
    if (
      packet.cmd === 'publish' &&
      packet.topic === topic &&
      packet.qos <= 1 &&
      !packet.retain &&
      c.connected
    )
      handle(packet)
    else aedesEnqueue.call(parser, packet)
  }
  parser.removeListener('packet', aedesEnqueue)
  parser.on('packet', telemetryFirst)
  readTelemetryFirst(parser, topic, telemetryFirst)
}
