// A parser reading telemetry first emits the same packets, in the same order, with the same errors, as
// mqtt-packet alone, whatever the frames around the telemetry and however the bytes are split into reads.
import fc from 'fast-check'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { frameEnd, type MqttParser, readTelemetryFirst } from '../../broker/telemetry-parse.ts'

const TOPIC = 'factories/wärk-1/machines/presse-1/telemetry'

/** One QoS 1 telemetry PUBLISH frame. */
const telemetryFrame = (messageId: number, payload: string) =>
  mqttPacket.generate({ cmd: 'publish', topic: TOPIC, qos: 1, dup: false, retain: false, messageId, payload })

/** Every packet and error a parser emits while `chunks` are fed to it in turn. */
function parseAll(chunks: Buffer[], telemetryFirst: boolean): unknown[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser
  const out: unknown[] = []
  const record = (packet: Packet) => out.push({ ...packet })
  if (telemetryFirst) readTelemetryFirst(parser, TOPIC, record)
  parser.on('packet', record)
  parser.on('error', (error: Error) => out.push({ error: error.message }))
  for (const chunk of chunks) parser.parse(chunk)
  return out
}

const frame = fc.oneof(
  // The device's telemetry, as it nearly always arrives.
  fc
    .record({
      qos: fc.constantFrom(0, 1),
      dup: fc.boolean(),
      messageId: fc.integer({ min: 1, max: 65_535 }),
      payload: fc.uint8Array({ maxLength: 300 }),
    })
    .map(({ qos, dup, messageId, payload }) =>
      mqttPacket.generate({
        cmd: 'publish',
        topic: TOPIC,
        qos: qos as 0 | 1,
        dup,
        retain: false,
        messageId,
        payload: Buffer.from(payload),
      }),
    ),
  // What mqtt-packet keeps: retained or QoS 2 telemetry, other topics, other packets.
  fc
    .record({
      topic: fc.constantFrom(TOPIC, `${TOPIC}x`, TOPIC.slice(0, -1), 'factories/x/machines/y/status'),
      qos: fc.constantFrom(0, 1, 2),
      retain: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 40 }),
    })
    .map(({ topic, qos, retain, payload }) =>
      mqttPacket.generate({
        cmd: 'publish',
        topic,
        qos: qos as 0 | 1 | 2,
        dup: false,
        retain,
        messageId: 7,
        payload: Buffer.from(payload),
      }),
    ),
  fc.constant(mqttPacket.generate({ cmd: 'pingreq' })),
  fc.constant(mqttPacket.generate({ cmd: 'puback', messageId: 9 })),
  fc.constant(
    mqttPacket.generate({
      cmd: 'subscribe',
      messageId: 3,
      subscriptions: [{ topic: 'factories/#', qos: 1 }],
    }),
  ),
)

/** `bytes` cut at the given points (any order, duplicates allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  return [...at, bytes.length]
    .map((end, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], end))
    .filter((c) => c.length)
}

describe('readTelemetryFirst', () => {
  it('emits what mqtt-packet emits, in order, for any frames split at any points', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const chunks = split(Buffer.concat(frames), cuts)
          expect(parseAll(chunks, true)).toEqual(parseAll(chunks, false))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reports a malformed frame as mqtt-packet does, after the packets before it', () => {
    const telemetry = telemetryFrame(5, 'x')
    // QoS 3 (both QoS bits set) is malformed. [MQTT-3.3.1-4]
    const bad = Buffer.from([0x36, 0x00])
    const chunks = [Buffer.concat([telemetry, bad, telemetry])]
    const seen = parseAll(chunks, true)
    expect(seen).toEqual(parseAll(chunks, false))
    expect(seen.at(-1)).toEqual({ error: 'Packet must not have both QoS bits set to 1' })
  })

  it('reads whole telemetry frames without mqtt-packet', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser
    const chunks: Buffer[] = []
    const parseFrames = parser.parse
    parser.parse = (buf) => {
      chunks.push(buf)
      return parseFrames.call(parser, buf)
    }
    const seen: string[] = []
    readTelemetryFirst(parser, TOPIC, () => seen.push('telemetry'))
    const telemetry = telemetryFrame(5, 'x')
    const ping = mqttPacket.generate({ cmd: 'pingreq' })
    parser.on('packet', (packet: Packet) => seen.push(packet.cmd))
    parser.parse(Buffer.concat([telemetry, telemetry, ping, telemetry]))
    expect(seen).toEqual(['telemetry', 'telemetry', 'pingreq', 'telemetry'])
    expect(chunks).toEqual([ping])
  })

  it('keeps arrival order when a handler reads the next chunk before the current one is through', () => {
    const publish = (messageId: number) => telemetryFrame(messageId, `m${messageId}`)
    // (mqtt-packet alone cannot be fed from its own handler: it emits the current packet again.)
    const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser
    const ids: number[] = []
    readTelemetryFirst(parser, TOPIC, (packet) => {
      ids.push(packet.messageId!)
      if (packet.messageId === 1) parser.parse(Buffer.concat([publish(4), publish(5)]))
    })
    parser.parse(Buffer.concat([publish(1), publish(2), publish(3)]))
    expect(ids).toEqual([1, 2, 3, 4, 5])
  })
})

describe('frameEnd', () => {
  it('finds the end of a frame at each remaining-length width, and -1 while the length is incomplete', () => {
    // The bounds of each width, from the specification's table 2.4. [MQTT-2.2.3]
    const widths: [number, number[]][] = [
      [0, [0x00]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [16_383, [0xff, 0x7f]],
      [16_384, [0x80, 0x80, 0x01]],
      [2_097_151, [0xff, 0xff, 0x7f]],
      [2_097_152, [0x80, 0x80, 0x80, 0x01]],
      [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
    ]
    for (const [remaining, length] of widths) {
      const header = Buffer.from([0x32, ...length])
      expect(frameEnd(header, 0)).toBe(1 + length.length + remaining)
      expect(frameEnd(Buffer.concat([Buffer.from([9]), header]), 1)).toBe(2 + length.length + remaining)
      expect(frameEnd(header.subarray(0, length.length), 0)).toBe(-1)
    }
    expect(frameEnd(Buffer.from([0xd0, 0x00]), 0)).toBe(2)
    // A fifth length byte is malformed. [MQTT-2.2.3]
    expect(frameEnd(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0)).toBe(-1)
  })
})
