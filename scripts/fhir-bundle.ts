/**
 * `npm run fhir:bundle -- --token <access token>`: prints a FHIR R4 transaction Bundle that the
 * running IntakePilot takes as a new referral (docs/decisions/056-fhir-writes.md), for the token's
 * clinic and its intake form as it is now, with a made-up patient. What an EHR would send, ready
 * for curl:
 *
 *   TOKEN=$(npm run -s token -- referrer@northside.test)
 *   npm run -s fhir:bundle -- --token "$TOKEN" > bundle.json
 *   curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json' \
 *     --data @bundle.json http://127.0.0.1:8788/fhir/R4
 *
 * The form's current version and its Questionnaire's canonical URL are read from the app (the
 * URL names the clinic), so the Bundle names them as the server expects. Each run gets an order
 * identifier of its own: sending the same file twice gives the first referral back.
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({ options: { token: { type: 'string' }, 'app-url': { type: 'string' } } })
const token = args.token ?? process.env.INTAKEPILOT_TOKEN
const app = (args['app-url'] ?? `http://127.0.0.1:${process.env.APP_PORT ?? 8788}`).replace(/\/$/, '')

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}
if (!token) fail('Usage: npm run fhir:bundle -- --token "$(npm run -s token -- referrer@northside.test)" [--app-url http://127.0.0.1:8788]')

type Field = { key: string; type: string; required: boolean; options?: string[]; format?: string }

async function read<T>(path: string): Promise<T> {
  let response: Response
  try {
    response = await fetch(`${app}${path}`, { headers: { Authorization: `Bearer ${token}` } })
  } catch {
    fail(`IntakePilot is not answering at ${app}: start it with \`npm start\` first`)
  }
  if (!response.ok) fail(`${path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`)
  return (await response.json()) as T
}

// A made-up patient (the health card passes Ontario's check digit; no such person exists).
const PATIENT = { first: 'Amira', last: 'Haddad', dob: '1984-03-12', card: '4821-093-771-KD' }
const REASON = 'Right knee pain for three months after a fall; swelling despite physiotherapy. Please assess for surgery.'
/** What the Patient and ServiceRequest carry; the answers leave them out. */
const CARRIED = ['patient_first_name', 'patient_last_name', 'patient_dob', 'health_card_number', 'urgency', 'reason']
const EXAMPLES: Record<string, unknown> = {
  patient_sex: 'Female',
  patient_phone: '(416) 555-0148',
  patient_email: 'amira.haddad@example.test',
  clinician_name: 'Dr. Sam Okafor',
  clinician_practice: 'Danforth Family Health',
  clinician_phone: '(416) 555-0100',
  clinician_fax: '(416) 555-0101',
  clinician_billing_number: '123456',
  history: 'Fall on ice in September; X-ray showed no fracture.',
  medications: 'Naproxen 500 mg twice a day',
  allergies: 'None known',
  consent: true,
}

function example(field: Field): unknown {
  if (field.key in EXAMPLES) return EXAMPLES[field.key]
  if (field.format) return PATIENT.card
  return (
    { date: '2026-11-02', phone: '(416) 555-0123', email: 'someone@example.test', number: 1, checkbox: true, select: field.options?.[0] ?? '' }[field.type] ??
    'See the attached letter.'
  )
}

function answer(field: Field, value: unknown) {
  if (field.type === 'checkbox') return { valueBoolean: value === true }
  if (field.type === 'number') return { valueDecimal: Number(value) }
  if (field.type === 'date') return { valueDate: String(value) }
  return { valueString: String(value) }
}

const form = (await read<{ data: { version: number; fields: Field[] } }>('/api/v1/intake-form')).data
const questionnaire = await read<{ url: string; version: string }>(`/fhir/R4/Questionnaire/intake-${form.version}`)
const answers = form.fields
  .filter((f) => !CARRIED.includes(f.key) && (f.required || f.key in EXAMPLES))
  .map((f) => ({ linkId: f.key, answer: [answer(f, example(f))] }))
const order = { system: 'urn:oid:2.16.840.1.113883.3.999.1', value: randomUUID() }
const urls = { patient: `urn:uuid:${randomUUID()}`, order: `urn:uuid:${randomUUID()}`, answers: `urn:uuid:${randomUUID()}` }

const bundle = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: urls.patient,
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: PATIENT.card }],
        name: [{ use: 'official', family: PATIENT.last, given: [PATIENT.first] }],
        birthDate: PATIENT.dob,
      },
      request: { method: 'POST', url: 'Patient' },
    },
    {
      fullUrl: urls.order,
      resource: {
        resourceType: 'ServiceRequest',
        identifier: [order],
        status: 'active',
        intent: 'order',
        priority: 'urgent',
        subject: { reference: urls.patient },
        reasonCode: [{ text: REASON }],
      },
      request: { method: 'POST', url: 'ServiceRequest', ifNoneExist: `identifier=${order.system}|${order.value}` },
    },
    {
      fullUrl: urls.answers,
      resource: {
        resourceType: 'QuestionnaireResponse',
        questionnaire: `${questionnaire.url}|${questionnaire.version}`,
        status: 'completed',
        subject: { reference: urls.patient },
        basedOn: [{ reference: urls.order }],
        item: [{ linkId: 'answers', item: answers }],
      },
      request: { method: 'POST', url: 'QuestionnaireResponse' },
    },
  ],
}

process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`)
