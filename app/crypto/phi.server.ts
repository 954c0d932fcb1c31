/**
 * Field-level PHI encryption (decision 007), with Web Crypto so it runs in workerd and Node.
 *
 * - AES-256-GCM; a per-clinic data key derived with HKDF from the key ring's master key.
 * - The current kid encrypts; every kid in the ring decrypts; `npm run keys:rotate` re-seals
 *   old values under the current kid (docs/decisions/048-key-rotation.md).
 * - Additional authenticated data binds a value to clinic | record | field: a ciphertext
 *   copied to another row, field or clinic does not decrypt.
 * - Fails closed: anything that does not decrypt throws PhiDecryptError.
 * - Blind indexes: HMAC-SHA256 under a separate key, for equality lookups only.
 */
import type { EncryptedValue } from '~/db/schema'

export type KeyRing = { current: string; keys: Record<string, string> }
export type FieldBinding = { clinicId: string; recordId: string; field: string }
/**
 * Where one sealed chunk of a document belongs (docs/decisions/027-referral-documents.md): its
 * clinic, referral, document, position, and whether it is the last. A chunk moved to another
 * document or referral, put out of order, or a document cut short after any chunk but its last,
 * does not open.
 */
export type ChunkBinding = { clinicId: string; referralId: string; documentId: string; index: number; last: boolean }

export class PhiDecryptError extends Error {
  constructor(readonly field: string) {
    super(`PHI field "${field}" could not be decrypted`)
    this.name = 'PhiDecryptError'
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const HKDF_SALT = encoder.encode('intakepilot/phi/v1')

export function parseKeyRing(json: string | undefined): KeyRing {
  if (!json) throw new Error('PHI_KEYRING is not configured')
  const ring = JSON.parse(json) as KeyRing
  if (!ring.current || !ring.keys?.[ring.current]) throw new Error('PHI_KEYRING has no current key')
  for (const [kid, key] of Object.entries(ring.keys)) {
    if (fromBase64(key).byteLength !== 32) throw new Error(`PHI_KEYRING key ${kid} is not 32 bytes`)
  }
  return ring
}

export function isEncryptedValue(value: unknown): value is EncryptedValue {
  const v = value as EncryptedValue | null
  return !!v && typeof v === 'object' && v.v === 1 && typeof v.kid === 'string' && typeof v.iv === 'string' && typeof v.ct === 'string'
}

/** The clinic's data key for a kid, derived once per cipher (HKDF from the ring's master key). */
function clinicDataKeys(keyRing: KeyRing) {
  const dataKeys = new Map<string, Promise<CryptoKey>>()

  function dataKey(kid: string, clinicId: string) {
    const cacheKey = `${kid}:${clinicId}`
    let key = dataKeys.get(cacheKey)
    if (!key) {
      const master = keyRing.keys[kid]
      if (!master) throw new PhiDecryptError('(unknown key id)')
      key = crypto.subtle
        .importKey('raw', fromBase64(master), 'HKDF', false, ['deriveKey'])
        .then((ikm) =>
          crypto.subtle.deriveKey(
            { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: encoder.encode(`clinic:${clinicId}`) },
            ikm,
            { name: 'AES-GCM', length: 256 },
            false,
            ['encrypt', 'decrypt'],
          ),
        )
      dataKeys.set(cacheKey, key)
      // A derivation that failed is tried again next time, not kept.
      key.catch(() => dataKeys.delete(cacheKey))
    }
    return key
  }
  return dataKey
}

export type PhiCipher = ReturnType<typeof createPhiCipher>

export type BlindIndexKind = 'health_card' | 'name_dob'

/** HMAC-SHA256 of clinic | kind | value under one blind-index key (base64 of 32 bytes). */
export function createBlindIndexer(blindIndexKey: string) {
  let hmacKey: Promise<CryptoKey> | undefined
  return async (kind: BlindIndexKind, clinicId: string, normalized: string) => {
    hmacKey ??= crypto.subtle.importKey('raw', fromBase64(blindIndexKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const mac = await crypto.subtle.sign('HMAC', await hmacKey, encoder.encode(`${clinicId}|${kind}|${normalized}`))
    return toBase64(new Uint8Array(mac))
  }
}

export function createPhiCipher(options: { keyRing: KeyRing; blindIndexKey: string; previousBlindIndexKey?: string }) {
  const { keyRing } = options
  const dataKey = clinicDataKeys(keyRing)
  const blindIndex = createBlindIndexer(options.blindIndexKey)
  const previousBlindIndex = options.previousBlindIndexKey ? createBlindIndexer(options.previousBlindIndexKey) : null

  const aad = (b: FieldBinding) => encoder.encode(`${b.clinicId}|${b.recordId}|${b.field}`)

  async function encrypt(plaintext: string, binding: FieldBinding): Promise<EncryptedValue> {
    const kid = keyRing.current
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(binding) },
      await dataKey(kid, binding.clinicId),
      encoder.encode(plaintext),
    )
    return { v: 1, kid, iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) }
  }

  async function decrypt(value: unknown, binding: FieldBinding): Promise<string> {
    if (!isEncryptedValue(value) || !keyRing.keys[value.kid]) throw new PhiDecryptError(binding.field)
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(value.iv), additionalData: aad(binding) },
        await dataKey(value.kid, binding.clinicId),
        fromBase64(value.ct),
      )
      return decoder.decode(plain)
    } catch {
      throw new PhiDecryptError(binding.field)
    }
  }

  return {
    /** The kid new values are sealed under (docs/decisions/048-key-rotation.md). */
    currentKid: keyRing.current,
    encrypt,
    decrypt,

    /**
     * The value sealed again under the current kid, or null when it already is. It opens
     * first, under its own kid and binding: nothing that does not decrypt is re-sealed.
     */
    async reseal(value: unknown, binding: FieldBinding): Promise<EncryptedValue | null> {
      if (isEncryptedValue(value) && value.kid === keyRing.current) return null
      return encrypt(await decrypt(value, binding), binding)
    },

    /** Keyed per clinic, so the same patient is not linkable across clinics. */
    blindIndex,

    /**
     * What a lookup matches: the index under the current key and, while a blind-index rotation
     * runs (PHI_BLIND_INDEX_KEY_PREVIOUS set), under the previous one, so that rows not yet
     * recomputed are still found.
     */
    async blindIndexes(kind: BlindIndexKind, clinicId: string, normalized: string): Promise<string[]> {
      const current = await blindIndex(kind, clinicId, normalized)
      return previousBlindIndex ? [current, await previousBlindIndex(kind, clinicId, normalized)] : [current]
    },

    /** The index under the previous key (the rotation job's check), or null when none is set. */
    previousBlindIndex,
  }
}

export type DocumentCipher = ReturnType<typeof createDocumentCipher>

/**
 * Documents are sealed in chunks under the same clinic data keys as PHI fields
 * (docs/decisions/027-referral-documents.md); a separate object, so PhiCipher stays as it was.
 */
export function createDocumentCipher(options: { keyRing: KeyRing }) {
  const { keyRing } = options
  const dataKey = clinicDataKeys(keyRing)
  // A prefix no field binding can have (a clinic id is a UUID), so a chunk never opens as a field.
  const chunkAad = (b: ChunkBinding) => encoder.encode(`document|${b.clinicId}|${b.referralId}|${b.documentId}|${b.index}|${b.last ? 'last' : 'more'}`)

  return {
    currentKid: keyRing.current,

    /**
     * One chunk of a document, sealed: [1][kid length][kid][iv (12)][ciphertext + tag (16)].
     * The kid travels with every chunk, so a document sealed before a rotation still opens.
     */
    async sealChunk(plaintext: Uint8Array<ArrayBuffer>, binding: ChunkBinding): Promise<Uint8Array> {
      const kid = keyRing.current
      const kidBytes = encoder.encode(kid)
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const ct = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: chunkAad(binding) }, await dataKey(kid, binding.clinicId), plaintext),
      )
      const sealed = new Uint8Array(2 + kidBytes.byteLength + iv.byteLength + ct.byteLength)
      sealed[0] = 1
      sealed[1] = kidBytes.byteLength
      sealed.set(kidBytes, 2)
      sealed.set(iv, 2 + kidBytes.byteLength)
      sealed.set(ct, 2 + kidBytes.byteLength + iv.byteLength)
      return sealed
    },

    /** The plaintext of a sealed chunk, or PhiDecryptError: anything altered, moved or unknown fails closed. */
    async openChunk(sealed: Uint8Array<ArrayBuffer>, binding: ChunkBinding): Promise<Uint8Array> {
      const field = `document chunk ${binding.index}`
      if (sealed.byteLength < 2 || sealed[0] !== 1) throw new PhiDecryptError(field)
      const kidEnd = 2 + sealed[1]!
      const kid = decoder.decode(sealed.subarray(2, kidEnd))
      if (!Object.hasOwn(keyRing.keys, kid) || sealed.byteLength < kidEnd + 12 + 16) throw new PhiDecryptError(field)
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: sealed.subarray(kidEnd, kidEnd + 12), additionalData: chunkAad(binding) },
          await dataKey(kid, binding.clinicId),
          sealed.subarray(kidEnd + 12),
        )
        return new Uint8Array(plain)
      } catch {
        throw new PhiDecryptError(field)
      }
    },
  }
}

/** The kid a sealed chunk names in its header, or null when the header is not one. */
export function sealedChunkKid(sealed: Uint8Array): string | null {
  if (sealed.byteLength < 2 || sealed[0] !== 1 || sealed.byteLength < 2 + sealed[1]!) return null
  return decoder.decode(sealed.subarray(2, 2 + sealed[1]!))
}

/** Health card numbers compare without spaces, dashes or case. */
export const normalizeHealthCard = (value: string) => value.toUpperCase().replace(/[^A-Z0-9]/g, '')

/** Last name without accents, spaces or punctuation, plus an ISO date of birth. */
export const normalizeNameDob = (lastName: string, dateOfBirth: string) =>
  `${lastName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '')}|${dateOfBirth.trim()}`

export function toBase64(bytes: Uint8Array) {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

export function fromBase64(text: string) {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * The cipher for this deployment's keys (PHI_KEYRING, PHI_BLIND_INDEX_KEY), built once per isolate
 * and kept while the bindings stay the same: the ring is parsed, and each clinic's data key
 * derived (HKDF), once, not on every request. The keys it keeps are non-extractable CryptoKeys.
 */
export function phiCipherFromEnv(env: { PHI_KEYRING?: string; PHI_BLIND_INDEX_KEY?: string; PHI_BLIND_INDEX_KEY_PREVIOUS?: string }) {
  if (!env.PHI_BLIND_INDEX_KEY) throw new Error('PHI_BLIND_INDEX_KEY is not configured')
  const previous = env.PHI_BLIND_INDEX_KEY_PREVIOUS || undefined
  if (kept && kept.keyRing === env.PHI_KEYRING && kept.blindIndexKey === env.PHI_BLIND_INDEX_KEY && kept.previous === previous) return kept.cipher
  const cipher = createPhiCipher({ keyRing: parseKeyRing(env.PHI_KEYRING), blindIndexKey: env.PHI_BLIND_INDEX_KEY, previousBlindIndexKey: previous })
  kept = { keyRing: env.PHI_KEYRING, blindIndexKey: env.PHI_BLIND_INDEX_KEY, previous, cipher }
  return cipher
}
let kept: { keyRing: string | undefined; blindIndexKey: string; previous: string | undefined; cipher: PhiCipher } | undefined

/** The document cipher for this deployment's key ring (PHI_KEYRING). */
export function documentCipherFromEnv(env: { PHI_KEYRING?: string }) {
  return createDocumentCipher({ keyRing: parseKeyRing(env.PHI_KEYRING) })
}
