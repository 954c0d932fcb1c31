/**
 * The clinic settings page (/admin/clinic) is a stack of sections, each its own form posting an
 * `intent` that names it; each domain that has a setting brings its section (a component and a
 * handler) and the page lists them. A section's handler answers 400 with `{ intent, result }`
 * (conform's reply: field errors for that section only) or redirects to `savedUrl(intent)`, so
 * a reload never re-posts and an earlier error never stays next to a later "Saved.".
 */
import type { SubmissionResult } from '@conform-to/react'

export const SETTINGS_PATH = '/admin/clinic'

export type SectionReply = { intent: string; result: SubmissionResult<string[]> }

/** Where a section lands after saving: the page, its "Saved." shown in that section. */
export const savedUrl = (intent: string) => `${SETTINGS_PATH}?saved=${encodeURIComponent(intent)}#${intent}`

/** The reply meant for this section, if the last post was its own. */
export function replyFor(intent: string, reply: unknown): SectionReply['result'] | undefined {
  const r = reply as Partial<SectionReply> | undefined
  return r && r.intent === intent ? r.result : undefined
}
