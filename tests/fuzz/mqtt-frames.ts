// Generators of hostile MQTT frames: random bytes, mutated valid packets and known-nasty shapes.
import {
  connectFrame,
  frame,
  publishFrame,
  pubrelFrame,
  remainingLength,
  subscribeFrame,
  utf8,
} from './mqtt-wire.ts'

/** A small seeded PRNG (mulberry32) so a failing run can be replayed from its seed. */
export function createRandom(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
  }
}

export type Random = ReturnType<typeof createRandom>

// Well-formed UTF-8 that still probes prototype keys, reserved prefixes, wildcards and deep topics.
const NASTY_TOPICS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '__proto__/constructor/prototype',
  '$SYS/broker/clients',
  '/',
  '//',
  'a/b',
  '\uffff',
  'x'.repeat(300),
  Array.from({ length: 150 }, (_, i) => `l${i}`).join('/'),
  Array.from({ length: 5000 }, () => 'a').join('/'),
  'factories/plant-1/machines/target/telemetry',
  'factories/plant-1/machines/probe/telemetry',
  'factories/plant-1/machines/target/status',
]
const NASTY_FILTERS = [
  ...NASTY_TOPICS,
  '#',
  '+/#',
  '+',
  'a/+/b',
  '$SYS/#',
  'factories/+/machines/+/telemetry',
]

// Invalid UTF-8, NUL and lone surrogates: the parser must refuse these. [MQTT-1.5.3-1] [MQTT-1.5.3-2]
const BAD_STRINGS: (string | Buffer)[] = [
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xc0, 0x80]),
  '\u0000',
  'topic\u0000with-nul',
  '\ud800',
  '',
  '#',
  'a/+/b',
]

const packetId = (r: Random) => 1 + r.int(65_535)

/** A well-formed packet with hostile content; the session usually survives it. */
export function wellFormedHostile(r: Random): Buffer {
  switch (r.int(8)) {
    case 0:
    case 1:
      return publishFrame(r.pick(NASTY_TOPICS), r.bytes(r.int(64)), r.int(3), packetId(r), r.int(2))
    case 2:
      return publishFrame(
        'factories/plant-1/machines/target/telemetry',
        r.pick(['{"values":{"a":1}}', '[', '{"ts":-1e400,"values":{"__proto__":1}}', r.bytes(r.int(200))]),
        1,
        packetId(r),
      )
    case 3:
      return subscribeFrame(packetId(r), [[r.pick(NASTY_FILTERS), r.int(3)]])
    case 4:
      return frame(10, 2, Buffer.concat([Buffer.from([0, 2]), utf8(r.pick(NASTY_FILTERS))]))
    case 5:
      return pubrelFrame(packetId(r))
    case 6:
      // PUBACK/PUBREC/PUBCOMP for ids never used.
      return frame(r.pick([4, 5, 7]), 0, Buffer.from([r.int(256), 1 + r.int(255)]))
    default:
      return frame(12, 0, Buffer.alloc(0))
  }
}

/** A packet the broker must answer by closing the connection (or refusing it). */
export function sessionKiller(r: Random): Buffer {
  switch (r.int(12)) {
    case 0:
      // QoS 3 is reserved. [MQTT-3.3.1-4]
      return publishFrame('a/b', 'x', 3, 1)
    case 1:
      // Packet id 0 is not allowed for QoS > 0. [MQTT-2.3.1-1]
      return r.next() < 0.5 ? publishFrame('a/b', 'x', 1 + r.int(2), 0) : subscribeFrame(0, [['a/b', 0]])
    case 2:
      // SUBSCRIBE with reserved flags 0 instead of 2. [MQTT-3.8.1-1]
      return frame(8, 0, Buffer.concat([Buffer.from([0, 1]), utf8('a/b'), Buffer.from([0])]))
    case 3:
      // A second CONNECT on the same connection. [MQTT-3.1.0-2]
      return connectFrame({ clientId: r.pick(['__proto__', 'constructor', 'again']) })
    case 4:
      // Oversized remaining length: five continuation bytes, or the maximum.
      return r.next() < 0.5
        ? Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])
        : Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0, 0])
    case 5:
      // Reserved packet types 0 and 15.
      return frame(r.pick([0, 15]), r.int(16), r.bytes(r.int(8)))
    case 6:
      // Declared length longer than the bytes that follow (the next frame becomes its body).
      return Buffer.concat([Buffer.from([0x32]), remainingLength(200 + r.int(200)), r.bytes(r.int(16))])
    case 7:
      // A topic length field that overruns the packet.
      return frame(3, 2, Buffer.from([0xff, 0xff, 0x61, 0x00, 0x01]))
    case 8:
      return publishFrame(r.pick(BAD_STRINGS), 'x', r.int(2), 1)
    case 9:
      return subscribeFrame(1, [[r.pick(BAD_STRINGS), r.int(4)]])
    case 10:
      // A topic over the packet size limit.
      return publishFrame('x'.repeat(70_000), 'x', 0)
    default:
      return mutate(r, wellFormedHostile(r))
  }
}

/** Flips, truncates or extends a frame at random. */
export function mutate(r: Random, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes)
  switch (r.int(4)) {
    case 0:
      for (let i = 0; i < 1 + r.int(4); i++) if (out.length > 0) out[r.int(out.length)] = r.int(256)
      return out
    case 1:
      return out.subarray(0, r.int(out.length + 1))
    case 2:
      return Buffer.concat([out, r.bytes(r.int(32))])
    default:
      return r.bytes(1 + r.int(300))
  }
}

/** The opening of a session: a good CONNECT, a fuzzed one, or none at all. */
export function openingFrame(
  r: Random,
  credentials: { username: string; password: string } | null,
): Buffer | null {
  const roll = r.next()
  if (roll < 0.35 && credentials) {
    return connectFrame({ clientId: credentials.username, ...credentials })
  }
  if (roll < 0.7)
    return connectFrame({ clientId: r.pick(['__proto__', 'constructor', `fuzz-${r.int(1e9)}`, '']) })
  if (roll < 0.85)
    return mutate(
      r,
      connectFrame({ clientId: 'fuzz', username: 'u', password: 'p', keepaliveS: r.int(65_536) }),
    )
  return null
}
