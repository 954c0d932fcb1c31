/**
 * Talking to an OpenAI-compatible server on the staff member's own machine (LM Studio),
 * from the browser: list models, stream a chat completion (server-sent events).
 */
export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string }

export class LocalModelUnreachable extends Error {
  constructor() {
    super('The local model server could not be reached')
    this.name = 'LocalModelUnreachable'
  }
}

const base = (endpoint: string) => endpoint.replace(/\/+$/, '')

export async function listModels(endpoint: string, signal?: AbortSignal): Promise<string[]> {
  let response: Response
  try {
    response = await fetch(`${base(endpoint)}/models`, { signal })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    // Not running, or running without CORS: the browser reports both as a network error.
    throw new LocalModelUnreachable()
  }
  if (!response.ok) throw new LocalModelUnreachable()
  const body = await response.json<{ data?: { id: string }[] }>()
  return (body.data ?? []).map((m) => m.id)
}

/** Streams one completion; calls onToken for each piece of text; resolves with the whole text. */
export async function streamChat(
  endpoint: string,
  options: { model: string; messages: ChatMessage[]; signal?: AbortSignal; onToken: (text: string) => void },
): Promise<string> {
  let response: Response
  try {
    response = await fetch(`${base(endpoint)}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: options.model, messages: options.messages, stream: true, temperature: 0.2 }),
      signal: options.signal,
    })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new LocalModelUnreachable()
  }
  if (!response.ok || !response.body) throw new LocalModelUnreachable()
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += value
    // Events are separated by a blank line; each carries `data: <json>` or `data: [DONE]`.
    let boundary
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, boundary)
      buffer = buffer.slice(boundary + 2)
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue
        const data = line.slice(5).trim()
        if (data === '[DONE]') return text
        const piece = (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content
        if (piece) {
          text += piece
          options.onToken(piece)
        }
      }
    }
  }
  return text
}
