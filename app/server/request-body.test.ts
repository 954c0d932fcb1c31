import { describe, expect, test } from 'vitest'
import { BodyRefusal, DEFAULT_BODY_POLICY, LARGE_BODIES_BUDGET, largeBodiesInMemory, requireForm, reserveBody, takeBody } from './request-body.server'

const LIMIT = { maxBytes: 1024 }

/** A request whose body arrives as these chunks, each after `gapMs`; it never ends if `endless`. */
function streamed(chunks: Uint8Array[], options: { gapMs?: number; endless?: boolean; contentLength?: number } = {}) {
  let pulled = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pulled < chunks.length) {
        await new Promise((resolve) => setTimeout(resolve, options.gapMs ?? 0))
        controller.enqueue(chunks[pulled++])
      } else if (options.endless) {
        await new Promise((resolve) => setTimeout(resolve, 60_000))
      } else controller.close()
    },
  })
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' }
  if (options.contentLength !== undefined) headers['Content-Length'] = String(options.contentLength)
  return { request: new Request('https://x.test/queue', { method: 'POST', body, headers, duplex: 'half' } as RequestInit), pulled: () => pulled }
}
const bytes = (n: number) => new Uint8Array(n).fill(97)
const refusal = async (work: Promise<unknown>) =>
  work.then(
    () => null,
    (e: unknown) => (e instanceof BodyRefusal ? e.reason : e),
  )

describe('takeBody: never reads past the limit, never waits past its time', () => {
  test('a declared Content-Length over the limit is refused before a byte is read', async () => {
    const { request, pulled } = streamed([bytes(10)], { contentLength: 5000 })
    expect(await refusal(takeBody(request, LIMIT, 1000))).toBe('too-large')
    expect(pulled()).toBe(0)
  })

  test('a chunked body is counted as it arrives and cut at the first chunk past the limit', async () => {
    const { request, pulled } = streamed([bytes(600), bytes(600), bytes(600), bytes(600)])
    expect(await refusal(takeBody(request, LIMIT, 1000))).toBe('too-large')
    expect(pulled()).toBeLessThanOrEqual(3)
  })

  test('an endless body is cut at the limit too', async () => {
    const { request } = streamed([bytes(512), bytes(512), bytes(512)], { endless: true })
    expect(await refusal(takeBody(request, LIMIT, 5000))).toBe('too-large')
  })

  test('a body that stalls is refused when its time is up', async () => {
    const { request } = streamed([bytes(10)], { endless: true })
    const started = Date.now()
    expect(await refusal(takeBody(request, LIMIT, 200))).toBe('too-slow')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  test('exactly the limit, in pieces, comes back whole', async () => {
    const { request } = streamed([bytes(1000), bytes(24)], { gapMs: 5 })
    const body = (await takeBody(request, LIMIT, 1000)) as Uint8Array
    expect(body.byteLength).toBe(1024)
  })

  test('a streamed route gets a counted stream that fails past its limit', async () => {
    const { request } = streamed([bytes(600), bytes(600)])
    const stream = (await takeBody(request, { maxBytes: 1000, streamed: true }, 1000)) as ReadableStream
    expect(await refusal(new Response(stream).arrayBuffer())).toBe('too-large')
  })
})

describe('requireForm: page actions take forms that parse', () => {
  const text = (s: string) => new TextEncoder().encode(s)
  test.each([
    [null, 'a=1', 'not-a-form'],
    ['application/json', '{"a":1}', 'not-a-form'],
    ['text/plain', 'a=1', 'not-a-form'],
    ['multipart/form-data', 'a=1', 'malformed-form'],
    ['multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--Xy', 'malformed-form'],
  ])('%s: %s', async (type, body, reason) => {
    expect(await refusal(requireForm(type, text(body)))).toBe(reason)
  })

  test.each([
    ['application/x-www-form-urlencoded', 'a=1&b=%E0%A4%A'],
    ['application/x-www-form-urlencoded; charset=UTF-8', ''],
    ['multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
  ])('%s is a form', async (type, body) => {
    expect(await refusal(requireForm(type, text(body)))).toBeNull()
  })
})

describe('takeBody with its length declared', () => {
  test('is the bytes sent, in one buffer, also when fewer arrive than declared', async () => {
    const { request } = streamed([bytes(300), bytes(200)], { contentLength: 500 })
    const body = (await takeBody(request, LIMIT, 1000)) as Uint8Array
    expect(body.byteLength).toBe(500)
    const short = streamed([bytes(100)], { contentLength: 400 })
    expect(((await takeBody(short.request, LIMIT, 1000)) as Uint8Array).byteLength).toBe(100)
  })

  test('more bytes than declared is not the body announced: 400, and the rest is not read', async () => {
    const { request, pulled } = streamed([bytes(300), bytes(300), bytes(300)], { contentLength: 400 })
    expect(await refusal(takeBody(request, LIMIT, 1000))).toBe('malformed-form')
    expect(pulled()).toBeLessThan(3)
  })
})

describe('reserveBody: large whole-read bodies share one budget per isolate', () => {
  const MB = 1024 * 1024
  const BUNDLE = { maxBytes: 16 * MB }
  const post = (contentLength?: number) =>
    new Request('https://x.test/fhir/R4', {
      method: 'POST',
      headers: contentLength === undefined ? {} : { 'Content-Length': String(contentLength) },
    })

  test('reserves what is declared, refuses past the budget with 503, and gives it back once', () => {
    const first = reserveBody(post(10 * MB), BUNDLE)
    expect(largeBodiesInMemory()).toBe(10 * MB)
    let refused: unknown = null
    try {
      reserveBody(post(LARGE_BODIES_BUDGET - 10 * MB + 1), BUNDLE)
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(BodyRefusal)
    expect((refused as BodyRefusal).status).toBe(503)
    // What fits still goes in.
    const second = reserveBody(post(LARGE_BODIES_BUDGET - 10 * MB), BUNDLE)
    first()
    first()
    second()
    expect(largeBodiesInMemory()).toBe(0)
  })

  test('a body of unknown length counts as its limit; small, streamed, bodiless and over-limit ones count nothing', () => {
    const unknown = reserveBody(post(), BUNDLE)
    expect(largeBodiesInMemory()).toBe(BUNDLE.maxBytes)
    expect(() => reserveBody(post(MB), BUNDLE)).toThrow(BodyRefusal)
    unknown()
    reserveBody(post(), DEFAULT_BODY_POLICY)
    reserveBody(post(8 * 1024), BUNDLE)
    reserveBody(post(50 * MB), { maxBytes: 60 * MB, streamed: true })
    reserveBody(post(17 * MB), BUNDLE)
    reserveBody(new Request('https://x.test/fhir/R4', { method: 'GET' }), BUNDLE)
    expect(largeBodiesInMemory()).toBe(0)
  })
})
