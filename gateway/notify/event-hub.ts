// Fans alert changes out to in-process listeners (SSE streams); a throwing listener is dropped, not fatal.

export interface EventHub<T> {
  subscribe(listener: (event: T) => void): () => void
  publish(event: T): void
  size(): number
}

export function createEventHub<T>(onListenerError?: (error: unknown) => void): EventHub<T> {
  const listeners = new Set<(event: T) => void>()
  return {
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          listeners.delete(listener)
          onListenerError?.(error)
        }
      }
    },
    size: () => listeners.size,
  }
}
