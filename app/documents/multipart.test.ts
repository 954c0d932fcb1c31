import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { multipartBoundary, MultipartError, readMultipart } from './multipart.server'

/** A body as a browser would send it (the platform's own encoder), cut into the given pieces. */
async function encoded(form: FormData) {
  const request = new Request('http://x/', { method: 'POST', body: form })
  return { bytes: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get('Content-Type')! }
}
function streamOf(bytes: Uint8Array, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let from = 0
  for (const p of [...points, bytes.byteLength]) {
    if (p > from) pieces.push(bytes.slice(from, p))
    from = Math.max(from, p)
  }
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = pieces.shift()
      if (next) controller.enqueue(next)
      else controller.close()
    },
  })
}
async function collect(stream: ReadableStream<Uint8Array>, boundary: string) {
  const out: { name: string; filename: string | null; bytes: number[] }[] = []
  for await (const part of readMultipart(stream, boundary)) {
    const bytes: number[] = []
    for await (const piece of part.body) bytes.push(...piece)
    out.push({ name: part.name, filename: part.filename, bytes })
  }
  return out
}

describe('readMultipart', () => {
  test('reads what the platform encodes, however the body is cut into pieces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            // No `%`: the platform writes a `"` in a name as %22 (and CR, LF as %0D, %0A), so a name
            // that holds "%22" itself reads back as `"`, as browsers' parsers read it too.
            name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\r\n"%]/.test(s)),
            file: fc.boolean(),
            // Bytes that look like a delimiter's start must pass through untouched.
            data: fc.uint8Array({ maxLength: 300 }).map((a) => (a.length > 4 ? Uint8Array.from([13, 10, 45, 45, ...a]) : a)),
          }),
          { maxLength: 5 },
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (parts, cuts) => {
          const form = new FormData()
          for (const p of parts) {
            if (p.file) form.append(p.name, new File([p.data], 'scan.pdf'))
            else form.append(p.name, new TextDecoder().decode(p.data))
          }
          const { bytes, contentType } = await encoded(form)
          const got = await collect(streamOf(bytes, cuts), multipartBoundary(contentType)!)
          const want = [...form.entries()].map(async ([name, value]) => ({
            name,
            filename: typeof value === 'string' ? null : value.name,
            // The platform sends a text field's line breaks as CRLF.
            bytes: [
              ...(typeof value === 'string' ? new TextEncoder().encode(value.replace(/\r\n|\r|\n/g, '\r\n')) : new Uint8Array(await value.arrayBuffer())),
            ],
          }))
          expect(got).toEqual(await Promise.all(want))
        },
      ),
      { numRuns: 150 },
    )
  })

  test('a body cut short, without boundary, or with endless headers is a MultipartError', async () => {
    const form = new FormData()
    form.append('documents', new File(['%PDF-1.7 hello'], 'a.pdf'))
    const { bytes, contentType } = await encoded(form)
    const boundary = multipartBoundary(contentType)!
    await expect(collect(streamOf(bytes.slice(0, bytes.byteLength - 10), []), boundary)).rejects.toBeInstanceOf(MultipartError)
    await expect(collect(streamOf(new TextEncoder().encode('x'.repeat(5000)), []), boundary)).rejects.toBeInstanceOf(MultipartError)
    const endless = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n${'X-Pad: y\r\n'.repeat(2000)}`)
    await expect(collect(streamOf(endless, []), boundary)).rejects.toBeInstanceOf(MultipartError)
  })

  test('the boundary comes from a multipart/form-data type only', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc')
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe('a b')
    expect(multipartBoundary('application/x-www-form-urlencoded')).toBeNull()
    expect(multipartBoundary('multipart/form-data')).toBeNull()
    expect(multipartBoundary(null)).toBeNull()
  })
})
