/**
 * A stand-in for LM Studio's OpenAI-compatible server (LM Studio cannot run here): GET
 * /v1/models and POST /v1/chat/completions with `stream: true`, answered as server-sent
 * events a few tokens at a time, with CORS on (as LM Studio's "Enable CORS" does). It
 * records how many completions were in flight at once, to prove the page runs them in parallel.
 */
import { createServer, type Server } from 'node:http'

export type FakeLmStudio = { url: string; maxInFlight: () => number; requests: () => number; close: () => Promise<void> }

/** `port` 0 picks a free one (see `url`). */
export async function startFakeLmStudio(port: number, options: { model?: string; tokenDelayMs?: number } = {}): Promise<FakeLmStudio> {
  const model = options.model ?? 'qwen2.5-7b-instruct'
  let inFlight = 0
  let maxInFlight = 0
  let requests = 0
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a test double: an error in it fails the test that uses it
  const server: Server = createServer(async (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*')
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization')
    if (req.method === 'OPTIONS') return res.writeHead(204).end()
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      return res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }))
    }
    if (req.url === '/v1/chat/completions' && req.method === 'POST') {
      requests++
      let body = ''
      for await (const chunk of req) body += chunk
      const { messages } = JSON.parse(body) as { messages: { role: string; content: string }[] }
      const system = messages[0]?.content ?? ''
      const kind = system.includes('triage') ? 'Triage' : system.includes('missing') ? 'Missing' : 'Summary'
      const words =
        `${kind}: ${kind === 'Triage' ? 'urgent. Red flag: weight loss (reported in history).' : kind === 'Missing' ? 'Please send the latest imaging report.' : 'Adult patient referred for assessment.'}`.split(
          ' ',
        )
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
      for (const word of words) {
        res.write(
          `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: `${word} ` } }] })}\n\n`,
        )
        await new Promise((r) => setTimeout(r, options.tokenDelayMs ?? 60))
      }
      res.write('data: [DONE]\n\n')
      inFlight--
      return res.end()
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${bound}/v1`,
    maxInFlight: () => maxInFlight,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
