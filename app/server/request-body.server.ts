/**
 * Request bodies, bounded: every route has a byte limit (64 KB unless its `handle` declares
 * more), checked from Content-Length and again while the body arrives, and a time limit for
 * the body to arrive. The body is read in full BEFORE the request touches the database, so a
 * client that sends slowly (or never finishes) holds no connection. Page actions take forms
 * only. docs/decisions/019-body-limits-and-deadlines.md
 */

/**
 * What a route declares to take more than the default, in its module:
 * `export const handle = { requestBody: { maxBytes: 25 * 1024 * 1024, streamed: true } }`.
 */
export type RequestBodyPolicy = {
  /** The most bytes the route reads; one more and the answer is 413. */
  maxBytes: number
  /**
   * The route reads the body itself, as a stream, while the request runs (uploads): the
   * pipeline then passes it on counted, cut at maxBytes, instead of reading it first. Such a
   * route should do its database work after the body is in, or bound the upload by time.
   */
  streamed?: boolean
}

export const DEFAULT_BODY_POLICY: RequestBodyPolicy = { maxBytes: 64 * 1024 }
/** How long a body may take to arrive (a form of 64 KB takes well under a second). */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000

export type BodyRefusalReason = 'too-large' | 'too-slow' | 'not-a-form' | 'malformed-form' | 'busy'

/** The body cannot be taken; `status` is what the client is answered. */
export class BodyRefusal extends Error {
  override name = 'BodyRefusal'
  constructor(
    readonly reason: BodyRefusalReason,
    readonly maxBytes?: number,
  ) {
    super(reason)
  }
  get status() {
    return { 'too-large': 413, 'too-slow': 408, 'not-a-form': 415, 'malformed-form': 400, busy: 503 }[this.reason]
  }
}

/**
 * Bodies read whole past the default (a FHIR transaction with its documents, decision 062) are
 * held in the isolate's memory while their request runs, and parsed into more of it: together
 * they may come to at most this many declared bytes (one Bundle at its limit). Past it, the next
 * is refused at once with a 503 and Retry-After, before a byte of it is read, so concurrent large
 * bodies (from anyone: the body is read before the caller is known) cannot exhaust the isolate.
 */
export const LARGE_BODIES_BUDGET = 16 * 1024 * 1024
let largeBodiesHeld = 0

/**
 * Reserves a large whole-read body's bytes against LARGE_BODIES_BUDGET for the request's life;
 * the returned function gives them back (once). Throws BodyRefusal('busy'). Streamed bodies, small
 * ones and ones declared past their limit (a 413 anyway) reserve nothing.
 */
export function reserveBody(request: Request, policy: RequestBodyPolicy): () => void {
  if (!hasBody(request.method) || policy.streamed || policy.maxBytes <= DEFAULT_BODY_POLICY.maxBytes) return () => {}
  const declared = declaredLength(request)
  if (declared !== null && declared > policy.maxBytes) return () => {}
  const bytes = declared ?? policy.maxBytes
  if (bytes <= DEFAULT_BODY_POLICY.maxBytes) return () => {}
  if (largeBodiesHeld + bytes > LARGE_BODIES_BUDGET) throw new BodyRefusal('busy', policy.maxBytes)
  largeBodiesHeld += bytes
  let held = true
  return () => {
    if (held) largeBodiesHeld -= bytes
    held = false
  }
}

/** Bytes reserved by large bodies now (for tests). */
export const largeBodiesInMemory = () => largeBodiesHeld

function declaredLength(request: Request): number | null {
  const header = request.headers.get('Content-Length')
  const declared = header === null ? NaN : Number(header)
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : null
}

/** Methods that carry a body we read (OPTIONS, GET and HEAD carry none that matters). */
export const hasBody = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method)

/**
 * The whole body, at most `policy.maxBytes`, within `timeoutMs`; or, for a streamed route, the
 * body as a stream that fails once it goes past the limit. Throws BodyRefusal.
 */
export async function takeBody(request: Request, policy: RequestBodyPolicy, timeoutMs: number): Promise<Uint8Array | ReadableStream<Uint8Array> | null> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN)
  if (declared > policy.maxBytes) throw new BodyRefusal('too-large', policy.maxBytes)
  if (!request.body) return null
  if (policy.streamed) return request.body.pipeThrough(byteLimit(policy.maxBytes))

  const reader = request.body.getReader()
  // With its length declared the body is written into one buffer as it arrives: gathering chunks
  // and joining them held it twice (32 MB for a 16 MB Bundle).
  const declaredSize = declaredLength(request)
  const whole = declaredSize === null ? null : new Uint8Array(declaredSize)
  const chunks: Uint8Array[] = []
  let size = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyRefusal('too-slow')), timeoutMs)
  })
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), tooSlow])
      if (done) break
      // Counted as it arrives: Content-Length can be absent (chunked) or wrong.
      if (size + value.byteLength > policy.maxBytes) throw new BodyRefusal('too-large', policy.maxBytes)
      if (whole) {
        // More than was declared is not the body that was announced.
        if (size + value.byteLength > whole.byteLength) throw new BodyRefusal('malformed-form')
        whole.set(value, size)
      } else chunks.push(value)
      size += value.byteLength
    }
  } catch (error) {
    // Stop reading: the rest of the body is never buffered.
    reader.cancel().catch(() => {})
    throw error instanceof BodyRefusal ? error : new BodyRefusal('malformed-form')
  } finally {
    clearTimeout(timer)
  }
  if (whole) return size === whole.byteLength ? whole : whole.subarray(0, size)
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

function byteLimit(maxBytes: number) {
  let size = 0
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength
      if (size > maxBytes) controller.error(new BodyRefusal('too-large', maxBytes))
      else controller.enqueue(chunk)
    },
  })
}

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data']

/** What a form's Content-Type must be (also for a streamed upload, which its route parses). */
export function requireFormType(contentType: string | null) {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (!FORM_TYPES.includes(type)) throw new BodyRefusal('not-a-form')
  if (type === 'multipart/form-data' && !/;\s*boundary=/i.test(contentType!)) throw new BodyRefusal('malformed-form')
}

/**
 * A page action's body must be a form that parses (what every browser form sends): anything
 * else is refused here, with a clear 415 or 400, instead of failing inside the action.
 */
export async function requireForm(contentType: string | null, body: Uint8Array | null) {
  requireFormType(contentType)
  try {
    // The same parser the action will use, on the bytes already in memory (at most 64 KB).
    await new Response(body as BodyInit | null, { headers: { 'Content-Type': contentType! } }).formData()
  } catch {
    throw new BodyRefusal('malformed-form')
  }
}
