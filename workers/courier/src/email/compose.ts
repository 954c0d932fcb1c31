/**
 * What an email says: the clinic's name, the reference number, what happened, and a link that
 * needs sign-in. Nothing else: never a patient's name or date of birth, never a note or a
 * reason, never the question itself (docs/decisions/041).
 */
import type { EmailKind } from '~/db/schema'

export type EmailFacts = { kind: EmailKind; clinicName: string; referenceNumber: string; referralId: string; origin: string }
export type ComposedEmail = { subject: string; text: string; html: string }

const WHAT: Record<EmailKind, (ref: string) => string> = {
  accepted: (ref) => `Referral ${ref} has been accepted.`,
  declined: (ref) => `Referral ${ref} has been declined.`,
  scheduled: (ref) => `An appointment has been booked for referral ${ref}.`,
  completed: (ref) => `Referral ${ref} has been completed.`,
  question: (ref) => `The clinic has a question about referral ${ref}.`,
  new_urgent: (ref) => `A new urgent referral has arrived: ${ref}.`,
  assigned: (ref) => `Referral ${ref} has been assigned to you and needs your review.`,
}

const SUBJECT: Record<EmailKind, string> = {
  accepted: 'referral accepted',
  declined: 'referral declined',
  scheduled: 'appointment booked',
  completed: 'referral completed',
  question: 'the clinic has a question',
  new_urgent: 'new urgent referral',
  assigned: 'referral assigned to you',
}

/** A header or a line of text: no control characters (a name with a line break would add headers). */
const oneLine = (value: string) => value.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ').trim().slice(0, 200)
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function composeEmail(facts: EmailFacts): ComposedEmail {
  const clinic = oneLine(facts.clinicName)
  const ref = oneLine(facts.referenceNumber)
  const link = `${facts.origin}/referrals/${encodeURIComponent(facts.referralId)}`
  const settings = `${facts.origin}/settings/notifications`
  const what = WHAT[facts.kind](ref)
  const text = [
    `${clinic}`,
    '',
    what,
    '',
    `Sign in to see the details: ${link}`,
    '',
    `You can turn these emails off on your notification settings: ${settings}`,
    '',
  ].join('\r\n')
  const html = `<p><strong>${escapeHtml(clinic)}</strong></p><p>${escapeHtml(what)}</p><p><a href="${escapeHtml(link)}">Sign in to see the details</a></p><p><small><a href="${escapeHtml(settings)}">Notification settings</a></small></p>`
  return { subject: `${clinic}: ${SUBJECT[facts.kind]} (${ref})`, text, html }
}
