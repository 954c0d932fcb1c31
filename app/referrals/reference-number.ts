// Crockford base32 without I, L, O, U: easy to read aloud over the phone.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A reference number a referrer can quote: clinic prefix + 7 random characters, e.g. NOR-7K3M9PX. */
export function newReferenceNumber(clinicSlug: string) {
  const bytes = crypto.getRandomValues(new Uint8Array(7))
  const code = Array.from(bytes, (b) => ALPHABET[b % 32]).join('')
  return `${clinicSlug.slice(0, 3).toUpperCase()}-${code}`
}
