// The broker thread keeps its priority; every other thread of the process (here a worker, V8's and libuv's
// helpers) runs at nice 5. Measured in a process of its own, as gateway/main.ts does it.
import { execFileSync } from 'node:child_process'
import { getPriority } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const modulePath = path.resolve(import.meta.dirname, '../../gateway/thread-priority.ts')
const script = `
import { readdirSync, readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { lowerOtherThreads } from ${JSON.stringify(modulePath)}
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true })
await new Promise((resolve) => worker.once('online', resolve))
// Field 19 of a thread's stat line is its nice value; the fields after the command name start at 3.
const nice = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16])
const first = lowerOtherThreads()
const others = readdirSync('/proc/self/task').filter((t) => Number(t) !== process.pid).map(nice)
console.log(JSON.stringify({ main: nice(process.pid), others: [...new Set(others)], loweredAny: first > 0, again: lowerOtherThreads() }))
process.exit(0)
`

describe.runIf(process.platform === 'linux')('lowerOtherThreads', () => {
  it('lowers every thread but the main one to nice 5, once', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    })
    // Started at nice 0 it lowers them to 5; a test run started lower already has them there.
    const base = getPriority()
    expect(JSON.parse(out)).toEqual({
      main: base,
      others: [Math.max(base, 5)],
      loweredAny: base < 5,
      again: 0,
    })
  })
})
