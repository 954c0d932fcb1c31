/**
 * A transaction Bundle (Patient + ServiceRequest + QuestionnaireResponse) read as one intake
 * form submission (docs/decisions/056-fhir-writes.md). Pure: app/fhir/transaction.test.ts.
 *
 * - The QuestionnaireResponse is the form: each answered item's linkId is a field key of the
 *   version it names. The Patient and the ServiceRequest fill the fields the answers left out
 *   (the patient's name, birth date, card...; the urgency, service and reason), and where both
 *   give a field they must agree: one referral cannot say two things.
 * - Anything this server would not keep is refused with its place named, never dropped.
 * - Diagnostics name places and fields, never a value the client sent (it could be PHI).
 */
import type { IntakeField, IntakeFormDefinition } from '~/db/schema'
import { ONTARIO_HEALTH_CARD } from './codes'
import type { Issue } from './outcome.server'
import { isDocumentEntry } from './transaction-documents'

type Json = Record<string, unknown>
export type FormInput = Record<string, string>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined)
const issue = (expression: string, diagnostics: string, code = 'invalid'): Issue => ({
  expression: [expression],
  diagnostics: `${expression}: ${diagnostics}`,
  code,
})

const KINDS = ['Patient', 'ServiceRequest', 'QuestionnaireResponse'] as const
export type Kind = (typeof KINDS)[number]

/** An identifier as `system|value`, the form If-None-Exist and the idempotency key take. */
function identifierToken(v: unknown): string | undefined {
  if (!isObject(v)) return undefined
  const system = str(v.system)
  const value = str(v.value)
  return system && value ? `${system}|${value}` : undefined
}

/** What the Patient resource says, as the default form's field keys. */
function patientAnswers(p: Json, fields: Map<string, IntakeField>, out: Issue[]): FormInput {
  const got: FormInput = {}
  const names = Array.isArray(p.name) ? p.name.filter(isObject) : []
  const name = names.find((n) => n.use === 'official') ?? names[0]
  if (name) {
    const family = str(name.family)
    const given = Array.isArray(name.given) ? name.given.map(str).filter(Boolean).join(' ') : undefined
    if (family) got.patient_last_name = family
    if (given) got.patient_first_name = given
  }
  const birthDate = str(p.birthDate)
  if (birthDate) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) got.patient_dob = birthDate
    else out.push(issue('Patient.birthDate', 'give the full date of birth (YYYY-MM-DD)'))
  }
  const identifiers = Array.isArray(p.identifier) ? p.identifier.filter(isObject) : []
  // The health card is the Ontario number, or the one typed JHN (a jurisdictional health number).
  const card = identifiers.find((i) => i.system === ONTARIO_HEALTH_CARD) ?? identifiers.find((i) => JSON.stringify(i.type ?? '').includes('"JHN"'))
  if (str(card?.value)) got.health_card_number = str(card!.value)!
  const telecom = Array.isArray(p.telecom) ? p.telecom.filter(isObject) : []
  const phone = str(telecom.find((t) => t.system === 'phone')?.value)
  const email = str(telecom.find((t) => t.system === 'email')?.value)
  if (phone) got.patient_phone = phone
  if (email) got.patient_email = email
  const address = Array.isArray(p.address) ? p.address.filter(isObject)[0] : undefined
  if (address) {
    const text =
      str(address.text) ??
      [...(Array.isArray(address.line) ? (address.line as unknown[]) : []), address.city, address.state, address.postalCode].map(str).filter(Boolean).join(', ')
    if (text) got.patient_address = text
  }
  const sex = fields.get('patient_sex')
  const gender = str(p.gender)
  if (gender && sex?.options) {
    const wanted = { female: 'Female', male: 'Male', other: 'Intersex', unknown: 'Prefer not to say' }[gender]
    const option = sex.options.find((o) => o.toLowerCase() === wanted?.toLowerCase())
    if (option) got.patient_sex = option
  }
  return got
}

/** FHIR's request priority as the default form's urgency (`asap` has no urgency of ours). */
const URGENCY: Record<string, string> = { routine: 'routine', urgent: 'urgent', stat: 'emergent' }

function serviceRequestAnswers(s: Json, out: Issue[]): FormInput {
  const got: FormInput = {}
  const priority = str(s.priority)
  if (priority) {
    if (URGENCY[priority]) got.urgency = URGENCY[priority]
    else out.push(issue('ServiceRequest.priority', 'one of routine, urgent or stat', 'not-supported'))
  }
  const service = isObject(s.code)
    ? (str(s.code.text) ?? str((Array.isArray(s.code.coding) ? s.code.coding.filter(isObject)[0] : undefined)?.display))
    : undefined
  if (service) got.requested_service = service
  const reasons = Array.isArray(s.reasonCode) ? s.reasonCode.filter(isObject).map((r) => str(r.text)) : []
  const notes = Array.isArray(s.note) ? s.note.filter(isObject).map((n) => str(n.text)) : []
  const reason = [...reasons, ...notes].filter(Boolean).join('\n')
  if (reason) got.reason = reason
  return got
}

/** One answer as the form's posted value (a checkbox's `on`, as an HTML form sends it). */
function answerValue(field: IntakeField, answer: Json): string | null | undefined {
  const keys = Object.keys(answer).filter((k) => k.startsWith('value'))
  if (keys.length !== 1) return undefined
  const value = answer[keys[0]!]
  switch (keys[0]) {
    case 'valueBoolean':
      return field.type === 'checkbox' && typeof value === 'boolean' ? (value ? 'on' : null) : undefined
    case 'valueDecimal':
    case 'valueInteger':
      return field.type === 'number' && typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
    case 'valueDate':
      return field.type === 'date' && typeof value === 'string' ? value : undefined
    case 'valueString':
      return field.type !== 'checkbox' && field.type !== 'number' && typeof value === 'string' ? value : undefined
    case 'valueCoding':
      return field.type === 'select' && isObject(value) ? (str(value.code) ?? str(value.display)) : undefined
    default:
      return undefined
  }
}

/** The answers of a QuestionnaireResponse, at any depth of groups, by field key. */
function responseAnswers(items: unknown, fields: Map<string, IntakeField>, out: Issue[], path = 'QuestionnaireResponse'): FormInput {
  const got: FormInput = {}
  if (items === undefined) return got
  if (!Array.isArray(items)) {
    out.push(issue(`${path}.item`, 'must be a list'))
    return got
  }
  items.forEach((item, i) => {
    const at = `${path}.item[${i}]`
    if (!isObject(item) || typeof item.linkId !== 'string') return void out.push(issue(at, 'each item needs a linkId'))
    if (item.item !== undefined && item.answer === undefined) return void Object.assign(got, responseAnswers(item.item, fields, out, at))
    const field = fields.get(item.linkId)
    if (!field) return void out.push(issue(at, 'this linkId is not a question of the form version named', 'not-found'))
    if (!Array.isArray(item.answer) || item.answer.length !== 1 || !isObject(item.answer[0])) return void out.push(issue(at, 'give exactly one answer'))
    if (item.linkId in got) return void out.push(issue(at, 'this question is answered twice'))
    const value = answerValue(field, item.answer[0])
    if (value === undefined) return void out.push(issue(`${at}.answer[0]`, `the answer's type does not fit this question (${field.type})`))
    if (value !== null) got[item.linkId] = value
  })
  return got
}

/** The version a `questionnaire` canonical names, if it is this clinic's form. */
function formVersionOf(canonical: unknown, formUrl: string): number | null {
  if (typeof canonical !== 'string') return null
  const [url, version] = canonical.split('|')
  if (url !== formUrl || !version || !/^[1-9]\d{0,8}$/.test(version)) return null
  return Number(version)
}

/**
 * The Bundle's shape: its type, its three entries (each a POST of its own type, with a fullUrl
 * the others refer to) and its identifier. The answers need the form version, read next.
 */
export function readTransaction(
  body: unknown,
  formUrl: string,
): { entries: Record<Kind, Json>; order: Kind[]; key: string; formVersion: number; fullUrls: Partial<Record<Kind, string>> } | { problems: Issue[] } {
  const problems: Issue[] = []
  if (!isObject(body) || body.resourceType !== 'Bundle') return { problems: [issue('Bundle', 'post a Bundle of type transaction to the base')] }
  if (body.type !== 'transaction') return { problems: [issue('Bundle.type', 'only a transaction is taken here', 'not-supported')] }
  const list = Array.isArray(body.entry) ? body.entry : []
  const entries: Partial<Record<Kind, Json>> = {}
  const fullUrls: Partial<Record<Kind, string>> = {}
  const order: Kind[] = []
  let ifNoneExist: string | undefined
  list.forEach((entry: unknown, i) => {
    // The documents are transaction-documents.ts's (decision 062).
    if (isDocumentEntry(entry)) return
    const at = `Bundle.entry[${i}]`
    const resource = isObject(entry) && isObject(entry.resource) ? entry.resource : undefined
    const kind = KINDS.find((k) => k === resource?.resourceType)
    if (!resource || !kind)
      return void problems.push(
        issue(
          at,
          'a transaction here holds one Patient, one ServiceRequest, one QuestionnaireResponse and their DocumentReferences and Binaries',
          'not-supported',
        ),
      )
    if (entries[kind]) return void problems.push(issue(at, `a second ${kind}`, 'not-supported'))
    const request = isObject(entry) && isObject(entry.request) ? entry.request : {}
    if (request.method !== 'POST' || request.url !== kind)
      return void problems.push(issue(`${at}.request`, `each entry is a create: method POST, url ${kind}`, 'not-supported'))
    if (request.ifNoneExist !== undefined) {
      if (kind !== 'ServiceRequest') return void problems.push(issue(`${at}.request.ifNoneExist`, 'taken on the ServiceRequest only', 'not-supported'))
      const match = typeof request.ifNoneExist === 'string' ? /^identifier=([^&|]+\|[^&|]+)$/.exec(request.ifNoneExist) : null
      if (!match) return void problems.push(issue(`${at}.request.ifNoneExist`, 'only identifier=system|value is supported', 'not-supported'))
      ifNoneExist = decodeURIComponent(match[1]!)
    }
    if (resource.id !== undefined) return void problems.push(issue(`${at}.resource.id`, 'the server gives the ids: leave id out'))
    entries[kind] = resource
    order.push(kind)
    const fullUrl = isObject(entry) ? entry.fullUrl : undefined
    if (typeof fullUrl === 'string' && fullUrl) fullUrls[kind] = fullUrl
  })
  for (const kind of KINDS) if (!entries[kind]) problems.push(issue('Bundle.entry', `the ${kind} is missing`, 'required'))
  if (problems.length) return { problems }
  const { ServiceRequest: s, QuestionnaireResponse: q } = entries as Record<Kind, Json>

  // The three are one referral: the order is about the patient, the answers about both.
  const refersTo = (ref: unknown, kind: Kind) => isObject(ref) && typeof ref.reference === 'string' && ref.reference === fullUrls[kind]
  if (!fullUrls.Patient || !refersTo(s.subject, 'Patient')) problems.push(issue('ServiceRequest.subject', "must refer to the Patient entry's fullUrl"))
  if (q.subject !== undefined && !refersTo(q.subject, 'Patient'))
    problems.push(issue('QuestionnaireResponse.subject', "must refer to the Patient entry's fullUrl"))
  if (q.basedOn !== undefined && !(Array.isArray(q.basedOn) && q.basedOn.length === 1 && refersTo(q.basedOn[0], 'ServiceRequest'))) {
    problems.push(issue('QuestionnaireResponse.basedOn', "must refer to the ServiceRequest entry's fullUrl"))
  }
  if (s.status !== 'active') problems.push(issue('ServiceRequest.status', 'a new referral is active', 'value'))
  if (s.intent !== 'order') problems.push(issue('ServiceRequest.intent', 'a referral is an order', 'value'))
  if (q.status !== 'completed') problems.push(issue('QuestionnaireResponse.status', 'a submitted form is completed', 'value'))
  const formVersion = formVersionOf(q.questionnaire, formUrl)
  if (formVersion === null)
    problems.push(issue('QuestionnaireResponse.questionnaire', "name this clinic's intake form and the version filled in (url|version)", 'value'))

  // The retry key: the ServiceRequest's identifier (the order's own number at the sender), else the Bundle's.
  const ids = Array.isArray(s.identifier) ? s.identifier.map(identifierToken) : []
  const own = ids.find(Boolean)
  if (ifNoneExist && !ids.includes(ifNoneExist) && ids.length)
    problems.push(issue('ServiceRequest.identifier', 'If-None-Exist names an identifier the ServiceRequest does not have'))
  const key = own ?? ifNoneExist ?? identifierToken(body.identifier)
  if (!key)
    problems.push(
      issue(
        'Bundle.identifier',
        'give the Bundle or the ServiceRequest an identifier (system and value), so that a retry finds the first referral',
        'required',
      ),
    )
  if (problems.length) return { problems }
  return { entries: entries as Record<Kind, Json>, order, key: key!, formVersion: formVersion!, fullUrls }
}

/** The form's values from the three resources, or the places that disagree or do not fit. */
export function transactionAnswers(entries: Record<Kind, Json>, definition: IntakeFormDefinition): { answers: FormInput } | { problems: Issue[] } {
  const problems: Issue[] = []
  const fields = new Map(definition.sections.flatMap((s) => s.fields).map((f) => [f.key, f]))
  const answers = responseAnswers(entries.QuestionnaireResponse.item, fields, problems)
  const merge = (from: FormInput, where: Kind) => {
    for (const [key, value] of Object.entries(from)) {
      // A field this clinic's form does not ask is not kept: one that came is said, not dropped.
      if (!fields.has(key)) {
        problems.push(issue(where, `carries what this clinic's form has no question for (${key})`, 'not-supported'))
        continue
      }
      if (answers[key] === undefined) answers[key] = value
      else if (answers[key].trim().toLowerCase() !== value.trim().toLowerCase()) {
        problems.push(issue(where, `differs from the QuestionnaireResponse's answer to ${key}`, 'invariant'))
      }
    }
  }
  merge(patientAnswers(entries.Patient, fields, problems), 'Patient')
  merge(serviceRequestAnswers(entries.ServiceRequest, problems), 'ServiceRequest')
  return problems.length ? { problems } : { answers }
}

/** Where a form field's error points: the answer's item. */
export const answerExpression = (key: string) => `QuestionnaireResponse.item.where(linkId='${key}')`

/** The idempotency key (a UUID, as the form's) of a transaction identifier: the same identifier, the same key, for this sender. */
export async function transactionKey(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`fhir-transaction\n${token}`)))
  digest[6] = (digest[6]! & 0x0f) | 0x50
  digest[8] = (digest[8]! & 0x3f) | 0x80
  const hex = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
