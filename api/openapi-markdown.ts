// Renders the OpenAPI document as docs/api.md: one table row per endpoint, grouped by tag.
// Regenerate with `npx just docs-api`; a test fails when docs/api.md is out of date.

interface Operation {
  summary?: string
  tags?: string[]
  security?: unknown[]
  parameters?: { name: string; in: string; required?: boolean }[]
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> }
}

export function openApiToMarkdown(doc: { paths: Record<string, Record<string, Operation>> }): string {
  const byTag = new Map<string, string[]>()
  for (const [route, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other'
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => `\`${p.name}\``)
      const body = op.requestBody?.content?.['application/json']?.schema?.$ref?.split('/').pop()
      const inputs = [...query, ...(body ? [`body: ${body}`] : [])].join(', ')
      const auth = op.security && op.security.length > 0 ? 'token' : 'none'
      const row = `| \`${method.toUpperCase()} ${route}\` | ${op.summary ?? ''} | ${inputs} | ${auth} |`
      byTag.set(tag, [...(byTag.get(tag) ?? []), row])
    }
  }
  const sections = [...byTag].map(([tag, rows]) =>
    [`## ${tag}`, '', '| endpoint | what | inputs | auth |', '|---|---|---|---|', ...rows].join('\n'),
  )
  return [
    '# HTTP API',
    '',
    'Generated from the OpenAPI document (`npx just docs-api`); a running server serves the same document at',
    '`/openapi.json` and an interactive page at `/docs`, both without internet access. Every `token` route',
    'needs `Authorization: Bearer <token>`; read-only tokens may only use GET. Times are epoch milliseconds',
    '(query parameters also accept ISO-8601 with an offset). Errors are',
    '`{ "error": { "code", "message", "field"? } }` with the codes in [errors.md](errors.md).',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n')
}
