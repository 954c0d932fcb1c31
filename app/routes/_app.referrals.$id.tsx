import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { Link, useActionData, useLoaderData, useOutlet, type ShouldRevalidateFunction } from '@remix-run/react'
import { AiPanel } from '~/ai/ai-panel'
import { aiEndpointFor } from '~/ai/endpoint.server'
import { referralAsText } from '~/ai/prompts'
import { openSummaries } from '~/ai/summaries.server'
import { ReferralTabs } from '~/referrals/referral-tabs'
import { DocumentList } from '~/documents/document-list'
import { openDocumentList } from '~/documents/documents.server'
import { requireClinic, requireCurrentClinic, requireUser } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { OthersViewing } from '~/live/others-viewing'
import { type CHANNEL_LABELS, DuplicateBadge, EnteredBadge, PriorityBadge, STATUS_LABELS, StatusBadge } from '~/referrals/referral-badges'
import type { PhiCipher } from '~/crypto/phi.server'
import { History, SubmittedForm } from '~/referrals/referral-details'
import { FORWARDABLE } from '~/referrals/forward'
import { PurgedNote } from '~/privacy/purged-note'
import { ForwardedNote } from '~/referrals/forward-note'
import { forwardedFacts } from '~/referrals/forward.server'
import { openReferral, referralFacts, sentByIntegration, type OpenedReferral } from '~/referrals/open-referral.server'
import { workOnReferral, type Work } from '~/referrals/work.server'
import { canMove, NEEDS_REASON, NO_REFERRER_TO_ASK } from '~/referrals/workflow'
import { CancelForm } from '~/referrals/cancel-form'
import { StatusForm } from '~/referrals/status-form'
import { AssignForm, TextForm, type WorkAnswer } from '~/referrals/work-forms'
import { ReplyReceived } from '~/referrals/reply-received'
import { ACKNOWLEDGE_REPLY, acknowledgeReply } from '~/referrals/reply-received.server'
import { CANCEL_REASON_MISSING, isWorkIntent, REASON_MISSING, WorkSchema } from '~/referrals/work-schema'
import type { RequestClinic } from '~/tenancy/request-start.server'
import { referralStatuses, type ReferralStatus } from '~/db/enums'
import { parseForm } from '~/utils/form.server'
import { ClinicDate, useClinicTime } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'Referral · IntakePilot' }]
export const handle = { phi: true }

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const {
    staff,
    row,
    form,
    values,
    events,
    duplicates,
    people: everyone,
    storedSummaries,
    storedDocuments,
  } = await openReferral(context, user, params.id, { people: true, summaries: true, documents: true })
  // The documents' names are read with the referral (its referral.read row covers them).
  const documents = await openDocumentList(context.phi, storedDocuments)
  const ai = staff ? await aiFor(user, context.phi, requireCurrentClinic(context), storedSummaries) : null
  // Staff: everyone in the clinic, former staff included (the history names them too); assignees are the active ones.
  const people = everyone.filter((p) => p.status === 'active').map(({ status: _, ...p }) => p)
  const name = (id: unknown) => everyone.find((p) => p.id === id)?.displayName ?? null
  return {
    staff,
    referral: {
      ...referralFacts(row),
      possibleDuplicateOf: staff ? row.possibleDuplicateOf : null,
      replyReceivedAt: staff ? (row.replyReceivedAt?.toISOString() ?? null) : null,
      entered: enteredByStaff(row, staff, name),
      forwarded: forwardedFacts(row),
      sentByIntegration: sentByIntegration(row)?.name ?? null,
      purgedAt: row.purgedAt?.toISOString() ?? null,
      // The sender may cancel their own referral while the workflow lets it be cancelled (decision 060).
      cancel: !staff && hasPermission(user, 'cancel:referral:own') && row.submittedBy === user.id && canMove(row.status, 'cancelled'),
    },
    definition: form.definition,
    values,
    events: events.map((e) => (e.type === 'assignment' ? { ...e, data: { ...e.data, toName: name(e.data.to) } } : e)),
    duplicates,
    documents,
    assignees: people.filter((p) => p.role !== 'referrer'),
    me: staff && hasPermission(user, 'assign:referral:any') && people.some((p) => p.id === user.id && p.role !== 'referrer') ? user.id : null,
    accessHistory: hasPermission(user, 'read:referral-access:any'),
    ai: ai
      ? {
          ...ai,
          referralText: referralAsText(form.definition, values),
          summaries: ai.summaries.map((s) => ({ ...s, generatedByName: name(s.generatedBy) ?? 'Former staff member' })),
        }
      : null,
  }
}

/** Entered by staff from a fax or a call: how, and (for staff) by whom, when, and a referrer typed in. */
function enteredByStaff(row: OpenedReferral['row'], staff: boolean, name: (id: unknown) => string | null) {
  if (!row.channel) return null
  const facts = { channel: row.channel, enteredAt: row.createdAt.toISOString() }
  if (!staff) return facts
  const referrer = row.referrerName ? `${row.referrerName}${row.referrerOrganization ? ` (${row.referrerOrganization})` : ''}` : null
  return { ...facts, by: name(row.enteredBy) ?? 'Former staff member', typedInReferrer: referrer }
}

/** Staff see the AI summaries (read with the referral) and may generate more with their local model. */
async function aiFor(user: SessionUser, cipher: PhiCipher, { id: clinicId, settings }: RequestClinic, stored: Record<string, unknown> | null) {
  const { endpoint, source } = aiEndpointFor(user, settings)
  const summaries = await openSummaries(cipher, clinicId, stored)
  return { endpoint, source, summaries: summaries.map(({ text, ...s }) => ({ ...s, text })) }
}

const DONE = {
  status: 'Status changed.',
  assign: 'Assigned.',
  cancel: 'Referral cancelled. The clinic has been told.',
  note: 'Note added.',
  message: 'Question sent to the referrer.',
  reply: 'Reply sent.',
} as const

export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const clinicId = requireClinic(user)
  const formData = await request.formData()
  if (formData.get('intent') === ACKNOWLEDGE_REPLY) {
    const done = await acknowledgeReply(context, user, params.id)
    return answer({
      ok: true,
      message: done === 'acknowledged' ? 'Reply marked as seen.' : 'Someone already marked this reply as seen.',
      intent: null,
      result: null,
    })
  }
  const submission = parseForm(formData, WorkSchema)
  if (submission.status !== 'success') {
    // Each form shows its own errors; a post that names no form of this page gets the page's message.
    const intent = formData.get('intent')
    const known = isWorkIntent(intent)
    return answer(
      {
        ok: false,
        message: known ? null : 'Check the form and try again.',
        intent: known ? intent : null,
        result: submission.reply(),
        move: askedMove(formData),
      },
      400,
    )
  }
  const work = submission.value
  // The permission depends on the kind of work, so the form is parsed first; nothing of it is kept or recorded.
  const { outcome } = await workOnReferral(context, user, clinicId, params.id, {
    ...work,
    ...(work.intent === 'assign' ? { assignee: work.assignee ?? null } : {}),
    // The sender's cancel from this page is, by its category, the referrer withdrawing it.
    ...(work.intent === 'cancel' ? { reasonCode: 'referrer_withdrew' } : {}),
    ...(work.intent === 'status'
      ? {
          reason: work.reason || undefined,
          reasonCode: NEEDS_REASON.includes(work.to) ? work.reasonCode || undefined : undefined,
          scheduledFor: work.scheduledFor || undefined,
          scheduledTime: work.scheduledTime || undefined,
        }
      : {}),
  } as Work)
  if (outcome === 'not-found') throw new Response('Not found', { status: 404 })
  // What concerns the whole referral is said at the top of the page; what concerns a field, next to it.
  const refusals = {
    conflict: [409, 'Someone else changed this referral while you were looking at it. The page now shows the latest; check it and try again.', null],
    'bad-move': [400, 'That status change is not allowed from the current status.', null],
    'bad-assignee': [400, 'Choose an active member of the clinic staff.', 'assignee'],
    'needs-reason': [400, work.intent === 'cancel' ? CANCEL_REASON_MISSING : REASON_MISSING, 'reason'],
    'bad-reason-code': [400, 'Choose the kind of reason.', 'reasonCode'],
    'needs-date': [400, 'Give the appointment date.', 'scheduledFor'],
    'no-referrer': [400, NO_REFERRER_TO_ASK, 'body'],
  } as const
  if (outcome in refusals) {
    const [status, message, field] = refusals[outcome as keyof typeof refusals]
    const result = field ? submission.reply({ fieldErrors: { [field]: [message] } }) : submission.reply()
    return answer({ ok: false, message: field ? null : message, intent: work.intent, result, move: askedMove(formData) }, status)
  }
  // A move names where the referral now stands: two moves in a row must not read the same.
  const done =
    work.intent === 'status' ? `Status changed to ${STATUS_LABELS[work.to]}.` : work.intent === 'assign' && !work.assignee ? 'Unassigned.' : DONE[work.intent]
  return answer({ ok: true, message: done, intent: work.intent, result: submission.reply({ resetForm: true }) })
}

const answer = (body: WorkAnswer, status = 200) => data(body, { status })

/** The move a refused status post asked for, when it is one (its small form shows the errors). */
const askedMove = (formData: FormData) => {
  const to = formData.get('to')
  return formData.get('intent') === 'status' && referralStatuses.includes(to as ReferralStatus) ? (to as ReferralStatus) : null
}

// Remix skips reloading after a 4xx action; a 409 must reload, or every retry conflicts again.
// Moving between this referral's tabs (or paging its access history) must not open it, and
// record a read, again: single fetch reloads every route unless this says otherwise.
export const shouldRevalidate: ShouldRevalidateFunction = ({
  actionStatus,
  formMethod,
  currentParams,
  nextParams,
  currentUrl,
  nextUrl,
  defaultShouldRevalidate,
}) => {
  if (actionStatus === 409) return true
  if (!formMethod && currentParams.id === nextParams.id && currentUrl.href !== nextUrl.href) return false
  return defaultShouldRevalidate
}

export default function Referral() {
  const { staff, referral, definition, values, events, duplicates, documents, assignees, me, accessHistory, ai } = useLoaderData<typeof loader>()
  const outlet = useOutlet()
  const actionData = useActionData<typeof action>()
  const patient = `${values.patient_first_name ?? ''} ${values.patient_last_name ?? ''}`.trim() || 'Referral'
  // The referrer sees the conversation and the clinic's reasons (a decline, a booking date).
  const messages = events.filter((e) => e.type === 'message' || e.type === 'reply' || (e.type === 'status' && e.body))
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <p className="text-sm">
        <Link to={staff ? '/queue' : '/my-referrals'} className="text-brand-700 underline">
          ← {staff ? 'Queue' : 'My referrals'}
        </Link>
      </p>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">{patient}</h1>
        <StatusBadge status={referral.status} />
        <PriorityBadge priority={referral.priority} />
        {staff && duplicates.length ? <DuplicateBadge /> : null}
        {referral.entered ? <EnteredBadge channel={referral.entered.channel} /> : null}
      </div>
      <p className="mt-1 text-sm text-slate-600">
        Reference <span className="font-mono">{referral.referenceNumber}</span> · received <ClinicDate iso={referral.receivedAt} /> · form version{' '}
        {referral.formVersion} ·{' '}
        <Link to={`/referrals/${referral.id}/print`} reloadDocument className="text-brand-700 underline">
          Print view
        </Link>
      </p>
      {referral.entered ? <EnteredLine entered={referral.entered} received={referral.receivedAt} /> : null}
      {referral.sentByIntegration ? (
        <p className="mt-1 text-sm text-slate-600" data-testid="sent-by-integration">
          Sent by {referral.sentByIntegration}, an EHR system, over FHIR
        </p>
      ) : null}
      <ForwardedNote forwarded={referral.forwarded} />
      <PurgedNote purgedAt={referral.purgedAt} />
      {staff ? <OthersViewing referralId={referral.id} /> : null}
      {actionData?.message ? (
        <p
          role={actionData.ok ? 'status' : 'alert'}
          className={`mt-4 rounded-md border px-3 py-2 text-sm ${actionData.ok ? 'border-emerald-300 bg-emerald-50 text-emerald-900' : 'border-red-300 bg-red-50 text-red-900'}`}
        >
          {actionData.message}
        </p>
      ) : null}
      {referral.replyReceivedAt ? <ReplyReceived since={referral.replyReceivedAt} events={events} /> : null}
      {staff && duplicates.length ? (
        <div className="mt-4 rounded-md border border-fuchsia-200 bg-fuchsia-50 px-3 py-2 text-sm text-fuchsia-900" data-testid="duplicates">
          Possible duplicate of the same patient (matching health card, or last name and date of birth):{' '}
          {duplicates.map((d, i) => (
            <span key={d.id}>
              {i ? ', ' : ''}
              <Link to={`/referrals/${d.id}`} className="font-mono underline">
                {d.referenceNumber}
              </Link>{' '}
              ({STATUS_LABELS[d.status as keyof typeof STATUS_LABELS]})
            </span>
          ))}
        </div>
      ) : null}

      {accessHistory ? <ReferralTabs /> : null}
      {outlet}
      <div className={`mt-6 grid gap-6 lg:grid-cols-3 ${outlet ? 'hidden' : ''}`}>
        <div className="min-w-0 lg:col-span-2">
          <SubmittedForm definition={definition} values={values} />
        </div>
        <aside className="min-w-0 space-y-6">
          <section aria-labelledby="referral-documents" className="rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="referral-documents" className="font-semibold">
              Documents
            </h2>
            <div className="mt-2">
              <DocumentList referralId={referral.id} documents={documents} />
            </div>
            <Link to="documents" className="mt-2 inline-block text-sm text-brand-700 underline">
              {staff ? 'Attach documents' : 'Reply with documents'}
            </Link>
          </section>
          {staff ? (
            <section className="space-y-4 rounded-lg border border-slate-200 bg-white p-4" aria-label="Work this referral">
              <StatusForm referralId={referral.id} status={referral.status} version={referral.version} />
              <AssignForm assignedTo={referral.assignedTo} version={referral.version} assignees={assignees} me={me} />
              <TextForm intent="note" label="Internal note" button="Add note" help="Seen by clinic staff only." />
              {referral.sentByIntegration ? (
                <p className="text-sm text-slate-600">{NO_REFERRER_TO_ASK}.</p>
              ) : (
                <TextForm
                  intent="message"
                  label="Ask the referrer"
                  button="Send question"
                  help="The referrer sees this and can reply; the status becomes “Waiting on referrer”."
                />
              )}
              {FORWARDABLE.includes(referral.status) ? (
                <Link to="forward" className="inline-block text-sm text-brand-700 underline">
                  Forward to another clinic
                </Link>
              ) : null}
            </section>
          ) : (
            <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Messages">
              <h2 className="font-semibold">Messages with the clinic</h2>
              {messages.length === 0 ? <p className="text-sm text-slate-500">No messages yet.</p> : <History events={messages} />}
              <TextForm intent="reply" label="Reply to the clinic" button="Send reply" />
            </section>
          )}
          {referral.cancel ? <CancelForm version={referral.version} /> : null}
          {ai ? <AiPanel referralId={referral.id} endpoint={ai.endpoint} source={ai.source} referralText={ai.referralText} summaries={ai.summaries} /> : null}
          {staff ? (
            <section aria-label="History">
              <h2 className="mb-2 font-semibold">History</h2>
              <History events={events} />
            </section>
          ) : null}
        </aside>
      </div>
    </main>
  )
}

const ARRIVED: Record<keyof typeof CHANNEL_LABELS, string> = { fax: 'a fax', phone: 'a phone call', email: 'an email', walk_in: 'a walk-in visit' }

function EnteredLine({ entered, received }: { entered: NonNullable<ReturnType<typeof enteredByStaff>>; received: string }) {
  const at = useClinicTime()
  return (
    <p className="mt-1 text-sm text-slate-600" data-testid="entered-line">
      Entered by {'by' in entered ? entered.by : 'clinic staff'} on {at(entered.enteredAt)} from {ARRIVED[entered.channel]} received {at(received)}
      {'typedInReferrer' in entered && entered.typedInReferrer ? <> · referrer (no account here): {entered.typedInReferrer}</> : null}
    </p>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
