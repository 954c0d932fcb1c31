/**
 * What an email says: the clinic's name, the reference number, what happened, and a link that
 * needs sign-in. Nothing else: never a patient's name or date of birth, never a note or a
 * reason, never the question itself (docs/decisions/041).
 */
import type { EmailKind } from '~/db/schema'

type ReferralKind = Exclude<EmailKind, 'endpoint_disabled'>
export type EmailFacts =
  | { kind: ReferralKind; clinicName: string; referenceNumber: string; referralId: string; origin: string }
  /** A webhook endpoint the courier disabled: named by its host only (a path or query can hold a token). */
  | { kind: 'endpoint_disabled'; clinicName: string; endpointHost: string; origin: string }
export type ComposedEmail = { subject: string; text: string; html: string }

const WHAT: Record<ReferralKind, (ref: string) => string> = {
  accepted: (ref) => `Referral ${ref} has been accepted.`,
  declined: (ref) => `Referral ${ref} has been declined.`,
  scheduled: (ref) => `An appointment has been booked for referral ${ref}.`,
  completed: (ref) => `Referral ${ref} has been completed.`,
  question: (ref) => `The clinic has a question about referral ${ref}.`,
  new_urgent: (ref) => `A new urgent referral has arrived: ${ref}.`,
  assigned: (ref) => `Referral ${ref} has been assigned to you and needs your review.`,
}

const SUBJECT: Record<ReferralKind, string> = {
  accepted: 'referral accepted',
  declined: 'referral declined',
  scheduled: 'appointment booked',
  completed: 'referral completed',
  question: 'the clinic has a question',
  new_urgent: 'new urgent referral',
  assigned: 'referral assigned to you',
}

/** A header or a line of text: no control characters (a name with a line break would add headers). */
const oneLine = (value: string) =>
  value
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .trim()
    .slice(0, 200)
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

type Body = { subject: string; what: string[]; link: string; linkText: string }

function compose(clinicName: string, origin: string, body: Body): ComposedEmail {
  const clinic = oneLine(clinicName)
  const settings = `${origin}/settings/notifications`
  const text = [
    `${clinic}`,
    '',
    ...body.what,
    '',
    `${body.linkText}: ${body.link}`,
    '',
    `You can turn these emails off on your notification settings: ${settings}`,
    '',
  ].join('\r\n')
  const html = `<p><strong>${escapeHtml(clinic)}</strong></p>${body.what.map((line) => `<p>${escapeHtml(line)}</p>`).join('')}<p><a href="${escapeHtml(body.link)}">${escapeHtml(body.linkText)}</a></p><p><small><a href="${escapeHtml(settings)}">Notification settings</a></small></p>`
  return { subject: `${clinic}: ${body.subject}`, text, html }
}

export function composeEmail(facts: EmailFacts): ComposedEmail {
  if (facts.kind === 'endpoint_disabled') {
    const host = oneLine(facts.endpointHost)
    return compose(facts.clinicName, facts.origin, {
      subject: `webhook endpoint disabled (${host})`,
      what: [
        `The webhook endpoint at ${host} has been disabled: every delivery to it failed for 24 hours.`,
        'Nothing more is sent to it until an admin enables it again. Deliveries that failed can be sent again from its delivery log.',
      ],
      link: `${facts.origin}/admin/integrations`,
      linkText: 'Sign in to see the integrations page',
    })
  }
  const ref = oneLine(facts.referenceNumber)
  return compose(facts.clinicName, facts.origin, {
    subject: `${SUBJECT[facts.kind]} (${ref})`,
    what: [WHAT[facts.kind](ref)],
    link: `${facts.origin}/referrals/${encodeURIComponent(facts.referralId)}`,
    linkText: 'Sign in to see the details',
  })
}
