// Raw MQTT 3.1.1 frames for tests that must send what no well-behaved client would, and a tiny reader.
import { type Socket, connect as tcpConnect } from 'node:net'

export function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

export const utf8 = (s: string | Buffer): Buffer => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s
  const len = Buffer.alloc(2)
  len.writeUInt16BE(bytes.length & 0xffff)
  return Buffer.concat([len, bytes])
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n & 0xffff)
  return b
}

export function frame(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | (flags & 0x0f)]), remainingLength(body.length), body])
}

export interface ConnectFields {
  clientId: string | Buffer
  username?: string
  password?: string
  clean?: boolean
  keepaliveS?: number
  will?: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean }
  protocolLevel?: number
}

export function connectFrame(f: ConnectFields): Buffer {
  let flags = 0
  if (f.clean ?? true) flags |= 0x02
  if (f.will) flags |= 0x04 | (f.will.qos << 3) | (f.will.retain ? 0x20 : 0)
  if (f.password !== undefined) flags |= 0x40
  if (f.username !== undefined) flags |= 0x80
  const parts: Buffer[] = [
    utf8('MQTT'),
    Buffer.from([f.protocolLevel ?? 4, flags]),
    u16(f.keepaliveS ?? 60),
    utf8(f.clientId),
  ]
  if (f.will) parts.push(utf8(f.will.topic), utf8(f.will.payload))
  if (f.username !== undefined) parts.push(utf8(f.username))
  if (f.password !== undefined) parts.push(utf8(f.password))
  return frame(1, 0, Buffer.concat(parts))
}

export function publishFrame(
  topic: string | Buffer,
  payload: Buffer | string,
  qos: number,
  packetId = 1,
  flags = 0,
): Buffer {
  const parts: Buffer[] = [utf8(topic)]
  if (qos > 0) parts.push(u16(packetId))
  parts.push(typeof payload === 'string' ? Buffer.from(payload) : payload)
  return frame(3, (qos << 1) | flags, Buffer.concat(parts))
}

export function subscribeFrame(packetId: number, filters: [string | Buffer, number][]): Buffer {
  const parts: Buffer[] = [u16(packetId)]
  for (const [topic, qos] of filters) parts.push(utf8(topic), Buffer.from([qos]))
  return frame(8, 2, Buffer.concat(parts))
}

export const pubrelFrame = (packetId: number) => frame(6, 2, u16(packetId))
export const pingreqFrame = () => frame(12, 0, Buffer.alloc(0))
export const disconnectFrame = () => frame(14, 0, Buffer.alloc(0))

export interface ReadPacket {
  type: number
  flags: number
  body: Buffer
}

/** Splits a byte stream into packets; returns the packets and the unread rest. */
export function readPackets(buffer: Buffer): { packets: ReadPacket[]; rest: Buffer } {
  const packets: ReadPacket[] = []
  let at = 0
  while (at + 2 <= buffer.length) {
    let length = 0
    let multiplier = 1
    let i = at + 1
    let complete = false
    while (i < buffer.length && i < at + 5) {
      const byte = buffer[i++]!
      length += (byte & 0x7f) * multiplier
      multiplier *= 128
      if (!(byte & 0x80)) {
        complete = true
        break
      }
    }
    if (!complete || i + length > buffer.length) break
    packets.push({ type: buffer[at]! >> 4, flags: buffer[at]! & 0x0f, body: buffer.subarray(i, i + length) })
    at = i + length
  }
  return { packets, rest: buffer.subarray(at) }
}

/** A raw TCP connection that collects the packets it receives and reports when it closes. */
export interface RawClient {
  socket: Socket
  packets: ReadPacket[]
  closed: Promise<void>
  /** Resolves with the first received packet of this type. */
  next(type: number): Promise<ReadPacket>
  send(bytes: Buffer): void
}

export function rawConnect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, host)
    const packets: ReadPacket[] = []
    const waiters: { type: number; resolve: (p: ReadPacket) => void }[] = []
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      const { packets: got, rest } = readPackets(Buffer.concat([pending, chunk]))
      pending = rest
      for (const p of got) {
        packets.push(p)
        const w = waiters.findIndex((x) => x.type === p.type)
        if (w >= 0) waiters.splice(w, 1)[0]!.resolve(p)
      }
    })
    socket.on('error', () => {})
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.once('connect', () =>
      resolve({
        socket,
        packets,
        closed,
        next: (type) => {
          const seen = packets.find((p) => p.type === type)
          if (seen) return Promise.resolve(seen)
          return new Promise((r, fail) => {
            waiters.push({ type, resolve: r })
            closed.then(() => fail(new Error(`closed before packet type ${type} arrived`)))
          })
        },
        send: (bytes) => {
          if (!socket.destroyed) socket.write(bytes)
        },
      }),
    )
    socket.once('error', reject)
  })
}

export const CONNACK = 2
export const PUBACK = 4
export const PUBREC = 5
export const SUBACK = 9
