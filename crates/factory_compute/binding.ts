// Loads the factory_compute Node-API addon built by `npm run build:addon`, with a clear error when missing.
import { createRequire } from 'node:module'
import type * as Binding from './index.js'

const require = createRequire(import.meta.url)

function load(): typeof Binding {
  try {
    return require('./index.node') as typeof Binding
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(`factory_compute addon is not built (run \`npx just install\`): ${reason}`)
  }
}

export const compute = load()
