// Worker thread entry when running from source: makes TypeScript loadable in this thread, then starts the
// module named by the first worker argument (the writer by default).
import { register } from 'tsx/esm/api'

register()
await import(process.argv[2] ?? './writer-worker.ts')
