import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { z } from 'zod'
import { PROMPT_VERSION } from '~/ai/prompts'
import { decideOnSummary, saveGeneratedSummaries } from '~/ai/summaries.server'
import { requireClinic, requirePhiId, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { parseForm } from '~/utils/form.server'

const Text = z.string().trim().min(1, 'The model returned nothing').max(20_000)
const SummariesSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('save'),
    model: z.string().trim().min(1).max(200),
    promptVersion: z.literal(PROMPT_VERSION),
    summary: Text,
    triage: Text,
    missing: Text,
  }),
  z.object({ intent: z.literal('decide'), entryId: z.uuid(), decision: z.enum(['accepted', 'rejected']) }),
])

/** Saves generated summaries (with provenance) and records a staff member's decision on one. */
export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const attempt = { action: 'ai.generate', entityId: params.id } as const
  await requirePhiPermission(context, user, 'generate:summary:any', attempt)
  const clinicId = requireClinic(user)
  const referralId = await requirePhiId(context, params.id, attempt)
  const submission = parseForm(await request.formData(), SummariesSchema)
  // A Response, not data(): a resource route posted to directly would otherwise answer 200.
  if (submission.status !== 'success')
    return Response.json({ ok: false, message: 'The summaries could not be saved: the request was incomplete.' }, { status: 400 })
  const work = submission.value
  const staff = { clinicId, userId: user.id }

  if (work.intent === 'decide') {
    const decided = await decideOnSummary(context, staff, referralId, { entryId: work.entryId, decision: work.decision })
    if (!decided) throw new Response('Not found', { status: 404 })
    throw redirect(`/referrals/${referralId}`)
  }
  const generation = { model: work.model, promptVersion: work.promptVersion, texts: { summary: work.summary, triage: work.triage, missing: work.missing } }
  const saved = await saveGeneratedSummaries(context, staff, referralId, generation)
  if (!saved) throw new Response('Not found', { status: 404 })
  return Response.json({ ok: true, message: 'Saved. Review each summary below and accept or reject it.' })
}
