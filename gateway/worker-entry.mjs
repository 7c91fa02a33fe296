// Writer thread entry: makes TypeScript loadable in this thread, then starts the writer.
import { register } from 'tsx/esm/api'

register()
await import('./writer-worker.ts')
