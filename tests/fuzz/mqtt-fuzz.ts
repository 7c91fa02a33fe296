// Drives hostile MQTT sessions against a running broker over real TCP and counts the frames sent.
import { connect as tcpConnect } from 'node:net'
import {
  createRandom,
  mutate,
  openingFrame,
  type Random,
  sessionKiller,
  wellFormedHostile,
} from './mqtt-frames.ts'
import { pingreqFrame } from './mqtt-wire.ts'

const PINGRESP = Buffer.from([0xd0, 0x00])

export interface MqttFuzzOptions {
  port: number
  host?: string
  /** Stop after sending at least this many frames. */
  frames: number
  /** Concurrent sessions. */
  parallel?: number
  /** Well-formed hostile frames per session, between the opening and the final session-ending one. */
  framesPerSession?: number
  seed: number
  /** A device credential, so part of the sessions reach the authorised code paths. */
  credentials: { username: string; password: string } | null
  /** Called after every `progressEvery` frames; the run waits for it (e.g. a probe publish). */
  onProgress?: (framesSent: number) => Promise<void>
  progressEvery?: number
}

export interface MqttFuzzResult {
  framesSent: number
  sessions: number
  bytesSent: number
}

/**
 * One connection: an opening, well-formed hostile packets and a PINGREQ; once the PINGRESP shows the
 * broker got through them (it answers in order), one packet that must end the session.
 */
function session(r: Random, options: MqttFuzzOptions): Promise<{ frames: number; bytes: number }> {
  const frames: Buffer[] = []
  const opening = openingFrame(r, options.credentials)
  if (opening) frames.push(opening)
  const count = options.framesPerSession ?? 40
  for (let i = 0; i < count; i++) {
    const packet = wellFormedHostile(r)
    frames.push(r.next() < 0.01 ? mutate(r, packet) : packet)
  }
  frames.push(pingreqFrame())
  const killer = sessionKiller(r)
  const first = Buffer.concat(frames)
  return new Promise((resolve) => {
    const socket = tcpConnect(options.port, options.host ?? '127.0.0.1')
    let sentKiller = false
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      // PINGRESP is 0xd0 0x00; anything else the broker answers is dropped.
      if (!sentKiller && chunk.includes(PINGRESP)) {
        sentKiller = true
        socket.write(killer, () => socket.end())
      }
    })
    socket.once('close', () =>
      resolve({
        frames: frames.length + (sentKiller ? 1 : 0),
        bytes: first.length + (sentKiller ? killer.length : 0),
      }),
    )
    socket.once('connect', () => {
      socket.write(first)
      // A session the broker keeps open without answering (e.g. no CONNECT yet) is closed by us.
      socket.setTimeout(500, () => socket.destroy())
    })
  })
}

export async function runMqttFuzz(options: MqttFuzzOptions): Promise<MqttFuzzResult> {
  const r = createRandom(options.seed)
  const parallel = options.parallel ?? 32
  const progressEvery = options.progressEvery ?? 10_000
  const result: MqttFuzzResult = { framesSent: 0, sessions: 0, bytesSent: 0 }
  let nextProgress = progressEvery
  const worker = async () => {
    while (result.framesSent < Math.min(nextProgress, options.frames)) {
      const done = await session(r, options)
      result.framesSent += done.frames
      result.bytesSent += done.bytes
      result.sessions++
    }
  }
  while (result.framesSent < options.frames) {
    await Promise.all(Array.from({ length: parallel }, () => worker()))
    // Between rounds the broker must still serve a real device (the caller's probe).
    await options.onProgress?.(result.framesSent)
    nextProgress = result.framesSent + progressEvery
  }
  return result
}
