/**
 * The three AI prompts. Browser-safe: the browser builds the messages and sends them to the
 * model on the staff member's own machine; the server never calls a model.
 * Bump PROMPT_VERSION whenever a prompt changes: it is saved with every summary.
 */
import type { IntakeFormDefinition } from '~/db/schema'

export const PROMPT_VERSION = 'referral-v1'
export const SUMMARY_KINDS = ['summary', 'triage', 'missing'] as const
export type SummaryKind = (typeof SUMMARY_KINDS)[number]

export const KIND_LABELS: Record<SummaryKind, string> = {
  summary: 'Clinical summary',
  triage: 'Triage: urgency and red flags',
  missing: 'Missing information to ask the referrer',
}

const INSTRUCTIONS: Record<SummaryKind, string> = {
  summary:
    'You assist clinic intake staff. Summarise the referral below for a clinician in at most 6 short bullet points: who the patient is (age, sex), the problem, relevant history, medications and allergies, and what is requested. Do not invent facts.',
  triage:
    'You assist clinic intake staff with triage. From the referral below, suggest an urgency (routine, urgent or emergent) and list any red flags, each with the reason from the referral that supports it. If there are none, say so. Do not invent facts; this is a suggestion for a clinician to confirm.',
  missing:
    'You assist clinic intake staff. List the information missing from the referral below that the clinic should ask the referring office for before booking (e.g. imaging, test results, medication doses, contact details), as short questions. If nothing important is missing, say so.',
}

/** The referral as plain "Label: value" lines, in form order; empty fields are left out. */
export function referralAsText(definition: IntakeFormDefinition, values: Record<string, unknown>) {
  const lines: string[] = []
  for (const section of definition.sections) {
    for (const field of section.fields) {
      const value = values[field.key]
      if (value === undefined || value === null || value === '' || field.type === 'checkbox') continue
      lines.push(`${field.label}: ${String(value)}`)
    }
  }
  return lines.join('\n')
}

export function messagesFor(kind: SummaryKind, referralText: string) {
  return [
    { role: 'system' as const, content: INSTRUCTIONS[kind] },
    { role: 'user' as const, content: `Referral:\n${referralText}` },
  ]
}
