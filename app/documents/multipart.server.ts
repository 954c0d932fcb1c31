/**
 * A streaming multipart/form-data reader: parts one after another, a file's bytes as they
 * arrive, so that an upload is never held whole in the isolate (workerd's request.formData()
 * buffers the entire body). docs/decisions/027-referral-documents.md
 *
 * Each part's body must be read (or is skipped) before the next part comes. Anything that is
 * not a well-formed form throws MultipartError: the caller answers 400 and keeps nothing.
 */
export class MultipartError extends Error {
  override name = 'MultipartError'
}

export type MultipartPart = {
  name: string
  /** Set for a file input's part (possibly ''), null for a plain field. */
  filename: string | null
  /** The bytes of this part, in pieces as they arrived. */
  body: AsyncGenerator<Uint8Array<ArrayBuffer>, void, undefined>
}

const MAX_HEADER_BYTES = 8 * 1024
const MAX_PREAMBLE_BYTES = 1024
const MAX_PARTS = 1000

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The boundary of a multipart/form-data Content-Type, or null for any other type. */
export function multipartBoundary(contentType: string | null): string | null {
  const [type, ...params] = (contentType ?? '').split(';')
  if (type!.trim().toLowerCase() !== 'multipart/form-data') return null
  for (const param of params) {
    const match = /^\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s";]{1,70}))\s*$/i.exec(param)
    if (match) return match[1] ?? match[2]!
  }
  return null
}

export async function* readMultipart(stream: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart, void, undefined> {
  const reader = stream.getReader()
  // The first delimiter may open the body without the CRLF every later one has: start with one.
  let buf: Uint8Array<ArrayBuffer> = encoder.encode('\r\n')
  let ended = false
  const delimiter = encoder.encode(`\r\n--${boundary}`)

  async function more(): Promise<boolean> {
    if (ended) return false
    const { done, value } = await reader.read()
    if (done) {
      ended = true
      return false
    }
    const next = new Uint8Array(buf.byteLength + value.byteLength)
    next.set(buf)
    next.set(value, buf.byteLength)
    buf = next
    return true
  }
  async function need(bytes: number) {
    while (buf.byteLength < bytes) if (!(await more())) throw new MultipartError('the form ends too early')
  }

  try {
    // Preamble, then the first delimiter.
    for (;;) {
      const at = indexOf(buf, delimiter, 0)
      if (at >= 0) {
        buf = buf.slice(at + delimiter.byteLength)
        break
      }
      if (buf.byteLength > MAX_PREAMBLE_BYTES + delimiter.byteLength) throw new MultipartError('no form boundary')
      if (!(await more())) throw new MultipartError('no form boundary')
    }
    for (let parts = 0; ; parts++) {
      await need(2)
      if (buf[0] === 0x2d && buf[1] === 0x2d) return // "--": the closing delimiter
      if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw new MultipartError('malformed boundary line')
      if (parts >= MAX_PARTS) throw new MultipartError('too many parts')
      buf = buf.slice(2)

      let headerEnd: number
      for (;;) {
        headerEnd = indexOf(buf, CRLFCRLF, 0)
        if (headerEnd >= 0) break
        if (buf.byteLength > MAX_HEADER_BYTES) throw new MultipartError('part headers too long')
        if (!(await more())) throw new MultipartError('the form ends too early')
      }
      const { name, filename } = parseHeaders(decoder.decode(buf.subarray(0, headerEnd)))
      buf = buf.slice(headerEnd + 4)

      let finished = false
      async function* body(): AsyncGenerator<Uint8Array<ArrayBuffer>, void, undefined> {
        for (;;) {
          const at = indexOf(buf, delimiter, 0)
          if (at >= 0) {
            if (at > 0) yield buf.slice(0, at)
            buf = buf.slice(at + delimiter.byteLength)
            finished = true
            return
          }
          // Keep what could be the start of a delimiter cut across two reads.
          const safe = buf.byteLength - (delimiter.byteLength - 1)
          if (safe > 0) {
            const piece = buf.slice(0, safe)
            buf = buf.slice(safe)
            yield piece
          }
          if (!(await more())) throw new MultipartError('the form ends too early')
        }
      }
      const part = body()
      yield { name, filename, body: part }
      // The caller may leave a part unread (an unknown field): skip to its end.
      if (!finished) for await (const _ of part);
      if (!finished) throw new MultipartError('part not finished')
    }
  } finally {
    reader.releaseLock()
  }
}

const CRLFCRLF = encoder.encode('\r\n\r\n')

function parseHeaders(text: string) {
  let name: string | null = null
  let filename: string | null = null
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) throw new MultipartError('malformed part header')
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue
    const value = line.slice(colon + 1)
    if (!/^\s*form-data\s*(;|$)/i.test(value)) throw new MultipartError('not form data')
    name = param(value, 'name')
    filename = param(value, 'filename')
  }
  if (name === null) throw new MultipartError('a part without a name')
  return { name, filename }
}

/**
 * A Content-Disposition parameter as browsers write it (the HTML standard's encoding): quoted,
 * with %22, %0D and %0A for a quote or line break inside, and no backslash escapes.
 */
function param(value: string, key: string): string | null {
  const match = new RegExp(`;\\s*${key}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value)
  if (!match) return null
  const raw = match[1] ?? match[2]!
  return raw.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n')
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number) {
  const first = needle[0]!
  const last = haystack.byteLength - needle.byteLength
  for (let i = haystack.indexOf(first, from); i >= 0 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++
    if (j === needle.byteLength) return i
  }
  return -1
}
