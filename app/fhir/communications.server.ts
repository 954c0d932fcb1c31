/**
 * The clinic's questions and the referrer's replies as Communications (docs/decisions/056-fhir-writes.md).
 * Each is a referral event (`message` from the clinic, `reply` from the referrer) under its own
 * id; its text is PHI, so every read opens the referral through openReferral (permission, RLS,
 * decryption, one referral.read row), as the page's history is read. Staff notes are not
 * Communications: they never leave the clinic. A new one is made by performWork, as the page's
 * question and reply forms make theirs.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, inArray } from 'drizzle-orm'
import { refusePhi, requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import { referralEvents } from '~/db/schema'
import { openReferral, type OpenedReferral } from '~/referrals/open-referral.server'
import { NO_REFERRER_TO_ASK, performWork, WORK_ACTION, WORK_PERMISSION } from '~/referrals/work.server'
import { hasNul } from '~/utils/form-values'
import { isUuid } from '~/utils/keyset'
import { fhirError, type Issue } from './outcome.server'
import type { FhirServer, Resource } from './resources'
import { fhirAudit } from './writes.server'

type Event = OpenedReferral['events'][number]
const THREAD = ['message', 'reply'] as const
const isThread = (e: Event) => (THREAD as readonly string[]).includes(e.type)

/** One message or reply; a reply answers the clinic's last question before it. */
export function communication(server: FhirServer, referralId: string, event: Event, answers: string | null): Resource {
  const fromClinic = event.type === 'message'
  const clinic = { display: server.clinic.name }
  const person = event.actor?.displayName ? { display: event.actor.displayName } : undefined
  return {
    resourceType: 'Communication',
    id: event.id,
    meta: { lastUpdated: event.createdAt },
    basedOn: [{ reference: `ServiceRequest/${referralId}` }],
    ...(answers ? { inResponseTo: [{ reference: `Communication/${answers}` }] } : {}),
    status: 'completed',
    category: [{ text: fromClinic ? 'Question from the clinic' : 'Reply from the referrer' }],
    subject: { reference: `Patient/${referralId}` },
    sent: event.createdAt,
    ...(fromClinic ? { sender: person ? { display: `${person.display}, ${server.clinic.name}` } : clinic } : person ? { sender: person } : {}),
    ...(fromClinic ? {} : { recipient: [clinic] }),
    payload: [{ contentString: event.body ?? '' }],
  }
}

/** The thread of a referral opened for this reader: its messages and replies, oldest first. */
function thread(server: FhirServer, opened: OpenedReferral): Resource[] {
  let question: string | null = null
  const out: Resource[] = []
  for (const event of opened.events.filter(isThread)) {
    out.push(communication(server, opened.row.id, event, event.type === 'reply' ? question : null))
    if (event.type === 'message') question = event.id
  }
  return out
}

/** GET Communication/:id: the event's referral is found under RLS, then opened as the page opens it. */
export async function readCommunication(context: AppLoadContext, user: SessionUser, server: FhirServer, id: string | undefined) {
  if (!hasPermission(user, 'read:referral:any')) await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.read' })
  const eventId = await requirePhiId(context, id, { action: 'referral.read' })
  const [found] = await context.db.tenant((tx) =>
    tx
      .select({ referralId: referralEvents.referralId })
      .from(referralEvents)
      .where(and(eq(referralEvents.id, eventId), inArray(referralEvents.type, [...THREAD])))
      .limit(1),
  )
  // Not there, a note, or not this reader's: a recorded 404, as for a referral.
  if (!found) await refusePhi(context, { action: 'referral.read', details: { fhir: true } }, 404)
  const opened = await openReferral(context, user, found!.referralId)
  const resource = thread(server, opened).find((c) => c.id === eventId)
  if (!resource) throw fhirError(404)
  return resource
}

/** GET Communication?based-on=ServiceRequest/:id: the referral's thread (one referral.read row). */
export async function searchCommunications(context: AppLoadContext, user: SessionUser, server: FhirServer, referralId: string) {
  const opened = await openReferral(context, user, referralId)
  return thread(server, opened)
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const TAKEN = new Set(['resourceType', 'status', 'basedOn', 'inResponseTo', 'payload', 'subject', 'category'])
const issue = (path: string, diagnostics: string, code = 'invalid'): Issue => ({ expression: [path], diagnostics: `${path}: ${diagnostics}`, code })
const referenceTo = (v: unknown, kind: string) => {
  const ref = isObject(v) && typeof v.reference === 'string' ? v.reference : ''
  const id = ref.startsWith(`${kind}/`) ? ref.slice(kind.length + 1) : null
  return isUuid(id) ? id : null
}

/** What a posted Communication asks: which referral, what text, answering which question. */
export function readNewCommunication(body: unknown): { referralId: string; text: string; answers: string | null } | { problems: Issue[] } {
  if (!isObject(body) || body.resourceType !== 'Communication') return { problems: [issue('Communication', 'the body is a Communication')] }
  const problems: Issue[] = []
  for (const key of Object.keys(body))
    if (!TAKEN.has(key)) problems.push(issue(`Communication.${key}`, 'the server sets this or keeps no such element', 'not-supported'))
  if (body.status !== 'completed') problems.push(issue('Communication.status', 'a message sent is completed', 'value'))
  const referralId = Array.isArray(body.basedOn) && body.basedOn.length === 1 ? referenceTo(body.basedOn[0], 'ServiceRequest') : null
  if (!referralId) problems.push(issue('Communication.basedOn', 'name the referral: one ServiceRequest/{id}', 'required'))
  if (body.subject !== undefined && referenceTo(body.subject, 'Patient') !== referralId)
    problems.push(issue('Communication.subject', "is the referral's Patient"))
  let answers: string | null = null
  if (body.inResponseTo !== undefined) {
    answers = Array.isArray(body.inResponseTo) && body.inResponseTo.length === 1 ? referenceTo(body.inResponseTo[0], 'Communication') : null
    if (!answers) problems.push(issue('Communication.inResponseTo', 'one Communication/{id}: the question answered'))
  }
  const payload = Array.isArray(body.payload) && body.payload.length === 1 && isObject(body.payload[0]) ? body.payload[0] : null
  const text = payload && Object.keys(payload).length === 1 && typeof payload.contentString === 'string' ? payload.contentString.trim() : null
  // The page's limits on a question or a reply (app/referrals/work-schema.ts).
  if (!text) problems.push(issue('Communication.payload', 'one payload with contentString (text only)', 'required'))
  else if (text.length > 4000) problems.push(issue('Communication.payload[0].contentString', 'keep it under 4,000 characters', 'too-long'))
  else if (hasNul(text)) problems.push(issue('Communication.payload[0].contentString', 'contains a character that cannot be stored (U+0000)'))
  return problems.length ? { problems } : { referralId: referralId!, text: text!, answers }
}

/**
 * POST Communication: the referrer's reply to the clinic's question (their own referral), or a
 * staff member's question to the referrer (which puts the referral on hold, as the page's
 * does). Recorded as the page's are, with `fhir: true`. Answers 201 with the new Communication.
 */
export async function postCommunication(context: AppLoadContext, user: SessionUser, server: FhirServer, body: unknown) {
  const intent = hasPermission(user, 'update:referral:any') ? 'message' : 'reply'
  const attempt = { action: WORK_ACTION[intent], details: { fhir: true } } as const
  await requirePhiPermission(context, user, WORK_PERMISSION[intent], attempt)
  const asked = readNewCommunication(body)
  if ('problems' in asked) throw fhirError(422, 'The Communication is not one this server takes', { issues: asked.problems })
  const id = await requirePhiId(context, asked.referralId, { ...attempt, entityId: asked.referralId })
  const done = await context.db.tenant(async (tx) => {
    if (asked.answers) {
      const [question] = await tx
        .select({ id: referralEvents.id })
        .from(referralEvents)
        .where(and(eq(referralEvents.id, asked.answers), eq(referralEvents.referralId, id), eq(referralEvents.type, 'message')))
      if (!question) return 'no-question' as const
    }
    return performWork(tx, { clinicId: server.clinic.id, userId: user.id, cipher: context.phi, audit: fhirAudit(context) }, id, { intent, body: asked.text })
  })
  if (done === 'no-question') {
    throw fhirError(422, undefined, { issues: [issue('Communication.inResponseTo', "not one of this referral's questions from the clinic", 'not-found')] })
  }
  if (done.outcome === 'no-referrer') {
    throw fhirError(422, undefined, { issues: [issue('Communication.basedOn', NO_REFERRER_TO_ASK, 'business-rule')] })
  }
  if (done.outcome !== 'done' || !done.eventId) throw fhirError(404)
  const now = new Date().toISOString()
  const resource = communication(
    server,
    id,
    {
      id: done.eventId,
      type: intent,
      createdAt: now,
      body: asked.text,
      actor: { id: user.id, displayName: user.displayName, role: user.role },
      data: {},
      visibleToReferrer: true,
    },
    asked.answers,
  )
  return { resource, location: `${server.origin}/fhir/R4/Communication/${done.eventId}` }
}
