/**
 * Field-level PHI encryption (decision 007), from the outside: what decrypts, what must not, and
 * that nothing ever comes back as plaintext by accident. Pure Web Crypto, no database.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import {
  createPhiCipher,
  fromBase64,
  isEncryptedValue,
  normalizeHealthCard,
  parseKeyRing,
  PhiDecryptError,
  toBase64,
  type FieldBinding,
  type KeyRing,
} from '../../app/crypto/phi.server'

const key = () => randomBytes(32).toString('base64')
const k1 = key()
const k2 = key()
const blindIndexKey = key()
const cipherWith = (keyRing: KeyRing, indexKey = blindIndexKey) => createPhiCipher({ keyRing, blindIndexKey: indexKey })
const cipher = cipherWith({ current: 'k1', keys: { k1 } })

const northside = randomUUID()
const lakeview = randomUUID()
const binding: FieldBinding = { clinicId: northside, recordId: randomUUID(), field: 'patient_last_name' }
const SECRET = 'Tremblay-Côté'

/** Resolves to the error a decrypt fails with, or fails the test if it decrypted. */
async function refusal(work: Promise<string>) {
  const outcome = await work.then(
    (plain) => ({ plain }),
    (error: unknown) => ({ error }),
  )
  expect(outcome).not.toHaveProperty('plain')
  return (outcome as { error: unknown }).error
}
const expectRefused = async (work: Promise<string>) => expect(await refusal(work)).toBeInstanceOf(PhiDecryptError)

/** Flips one bit of a base64 value: same length, still valid base64. */
function flipBit(b64: string, byte = 0) {
  const bytes = fromBase64(b64)
  bytes[byte] = bytes[byte]! ^ 0x01
  return toBase64(bytes)
}

test('round trip: the stored shape is {v:1,kid,iv,ct} and it decrypts back to the plaintext', async () => {
  const sealed = await cipher.encrypt(SECRET, binding)
  expect(Object.keys(sealed).sort()).toEqual(['ct', 'iv', 'kid', 'v'])
  expect(sealed).toMatchObject({ v: 1, kid: 'k1' })
  expect(isEncryptedValue(sealed)).toBe(true)
  expect(fromBase64(sealed.iv)).toHaveLength(12)
  // The plaintext is nowhere in what is stored.
  expect(JSON.stringify(sealed)).not.toContain('Tremblay')
  expect(await cipher.decrypt(sealed, binding)).toBe(SECRET)
  // A fresh IV each time: the same value twice gives different ciphertexts.
  const again = await cipher.encrypt(SECRET, binding)
  expect(again.iv).not.toBe(sealed.iv)
  expect(again.ct).not.toBe(sealed.ct)
  expect(await cipher.decrypt(again, binding)).toBe(SECRET)
})

test('the empty string and long unicode text round-trip too', async () => {
  const long = 'Zoë Ngozi — ' + 'x'.repeat(5000)
  for (const text of ['', long]) expect(await cipher.decrypt(await cipher.encrypt(text, binding), binding)).toBe(text)
})

describe('the additional data binds a value to clinic | record | field', () => {
  test.each([
    ['another record', { ...binding, recordId: randomUUID() }],
    ['another field', { ...binding, field: 'patient_first_name' }],
    ['another clinic', { ...binding, clinicId: lakeview }],
  ])('a ciphertext copied to %s does not decrypt', async (_, elsewhere) => {
    const sealed = await cipher.encrypt(SECRET, binding)
    await expectRefused(cipher.decrypt(sealed, elsewhere))
    // Positive control: the very same value still opens where it belongs.
    expect(await cipher.decrypt(sealed, binding)).toBe(SECRET)
  })
})

describe('tampering is detected', () => {
  test.each(['ct', 'iv'] as const)('one flipped bit in %s fails with PhiDecryptError', async (part) => {
    const sealed = await cipher.encrypt(SECRET, binding)
    await expectRefused(cipher.decrypt({ ...sealed, [part]: flipBit(sealed[part]) }, binding))
    expect(await cipher.decrypt(sealed, binding)).toBe(SECRET)
  })

  test('a truncated ciphertext (tag cut off) or a swapped IV fails', async () => {
    const sealed = await cipher.encrypt(SECRET, binding)
    const other = await cipher.encrypt(SECRET, binding)
    await expectRefused(cipher.decrypt({ ...sealed, ct: toBase64(fromBase64(sealed.ct).slice(0, -16)) }, binding))
    await expectRefused(cipher.decrypt({ ...sealed, iv: other.iv }, binding))
  })

  test('the error names the field but never carries the plaintext or the ciphertext', async () => {
    const sealed = await cipher.encrypt(SECRET, binding)
    const error = (await refusal(cipher.decrypt(sealed, { ...binding, recordId: randomUUID() }))) as PhiDecryptError
    expect(error.field).toBe('patient_last_name')
    expect(error.message).not.toContain(SECRET)
    expect(error.message).not.toContain(sealed.ct)
  })
})

describe('key ring', () => {
  test('an unknown kid fails closed, and so does a known kid whose key is different', async () => {
    const sealed = await cipher.encrypt(SECRET, binding)
    for (const kid of ['k9', '', '__proto__', 'constructor', 'toString']) await expectRefused(cipher.decrypt({ ...sealed, kid }, binding))
    // Same kid name, another key (a ring mix-up between environments).
    await expectRefused(cipherWith({ current: 'k1', keys: { k1: k2 } }).decrypt(sealed, binding))
  })

  test('rotation: a k1 value still decrypts under {current:k2, keys:{k1,k2}}; new values use k2', async () => {
    const old = await cipher.encrypt(SECRET, binding)
    const rotated = cipherWith({ current: 'k2', keys: { k1, k2 } })
    expect(await rotated.decrypt(old, binding)).toBe(SECRET)
    const fresh = await rotated.encrypt(SECRET, binding)
    expect(fresh.kid).toBe('k2')
    expect(await rotated.decrypt(fresh, binding)).toBe(SECRET)
    // k2 values are not readable by a ring that only knows k1 (the kid really is k2's key).
    await expectRefused(cipher.decrypt(fresh, binding))
    // Once k1 is retired from the ring, its leftovers fail closed instead of being shown.
    await expectRefused(cipherWith({ current: 'k2', keys: { k2 } }).decrypt(old, binding))
  })

  test('parseKeyRing refuses a ring without its current key or with a short key', () => {
    expect(() => parseKeyRing(undefined)).toThrow(/not configured/)
    expect(() => parseKeyRing(JSON.stringify({ current: 'k2', keys: { k1 } }))).toThrow(/no current key/)
    expect(() => parseKeyRing(JSON.stringify({ current: 'k1', keys: { k1: randomBytes(16).toString('base64') } }))).toThrow(/32 bytes/)
    expect(parseKeyRing(JSON.stringify({ current: 'k1', keys: { k1 } }))).toEqual({ current: 'k1', keys: { k1 } })
  })
})

describe('blind indexes', () => {
  const index = (value: string, clinicId = northside, c = cipher) => c.blindIndex('health_card', clinicId, normalizeHealthCard(value))

  test('the same health card in any formatting gives the same index', async () => {
    const expected = await index('1234-567-890-AB')
    for (const written of ['1234 567 890 ab', '1234567890ab', ' 1234-567-890-Ab ', '1234.567.890/AB']) {
      expect(await index(written)).toBe(expected)
    }
    // Positive control: a different card is a different index.
    expect(await index('1234-567-890-AC')).not.toBe(expected)
  })

  test('the index differs across clinics and across kinds, is stable, and is not the value', async () => {
    const here = await index('1234-567-890-AB')
    expect(await index('1234-567-890-AB')).toBe(here)
    expect(await index('1234-567-890-AB', lakeview)).not.toBe(here)
    expect(await cipher.blindIndex('name_dob', northside, normalizeHealthCard('1234-567-890-AB'))).not.toBe(here)
    expect(here).not.toContain('1234')
    expect(fromBase64(here)).toHaveLength(32)
  })

  test('the index is keyed by the separate blind-index key, not by the encryption keys', async () => {
    const here = await index('1234-567-890-AB')
    // Rotating the encryption ring leaves every index valid...
    expect(await index('1234-567-890-AB', northside, cipherWith({ current: 'k2', keys: { k1, k2 } }))).toBe(here)
    // ...and another blind-index key gives an unrelated index.
    expect(await index('1234-567-890-AB', northside, cipherWith({ current: 'k1', keys: { k1 } }, key()))).not.toBe(here)
  })
})

describe('fails closed on anything that is not an encrypted value', () => {
  test.each([
    ['a plaintext string', SECRET],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object without ct', { v: 1, kid: 'k1', iv: 'AAAAAAAAAAAAAAAA' }],
    ['an object of another version', { v: 2, kid: 'k1', iv: 'AAAAAAAAAAAAAAAA', ct: 'AAAA' }],
    ['an object with a plaintext ct', { v: 1, kid: 'k1', iv: 'AAAAAAAAAAAAAAAA', ct: SECRET }],
  ])('%s is refused, never returned', async (_, stored) => {
    await expectRefused(cipher.decrypt(stored, binding))
  })
})
