import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { eq } from 'drizzle-orm'
import { z } from 'zod'
import { PROMPT_VERSION, referralAsText } from '~/ai/prompts'
import { decideSummary, saveSummaries } from '~/ai/summaries.server'
import { sha256Hex } from '~/crypto/hash'
import { deniedEvent } from '~/audit/audit.server'
import { requireClinic, requirePhiId, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { phiCipherFromEnv } from '~/crypto/phi.server'
import { referrals } from '~/db/schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import { openFormData } from '~/referrals/form-data.server'
import { parseForm } from '~/utils/form.server'

const Text = z.string().trim().min(1, 'The model returned nothing').max(20_000)
const SummariesSchema = z.discriminatedUnion('intent', [
  z.object({ intent: z.literal('save'), model: z.string().trim().min(1).max(200), promptVersion: z.literal(PROMPT_VERSION), summary: Text, triage: Text, missing: Text }),
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
  if (submission.status !== 'success') return Response.json({ ok: false, message: 'The summaries could not be saved: the request was incomplete.' }, { status: 400 })
  const work = submission.value
  const cipher = phiCipherFromEnv(context.env)

  const outcome = await context.db.tenant(async (tx) => {
    const [row] = await tx.select().from(referrals).where(eq(referrals.id, referralId)).limit(1)
    if (!row) {
      // Not there, or another clinic's: recorded like every refused attempt on PHI.
      await context.audit(tx, deniedEvent({ action: work.intent === 'decide' ? 'ai.accept' : 'ai.generate', entityId: referralId }, 404))
      return null
    }
    if (work.intent === 'decide') {
      const done = await decideSummary(tx, { clinicId, referralId, entryId: work.entryId, decision: work.decision, userId: user.id })
      if (!done) return null
      await context.audit(tx, { action: 'ai.accept', entityType: 'referral', entityId: referralId, details: { entry: work.entryId, decision: work.decision } })
      return 'decided'
    }
    // The input hash is the server's own, over the referral as it is now (what was sent).
    const form = await intakeFormVersion(tx, clinicId, row.formVersion)
    const values = await openFormData(cipher, form!.definition, { clinicId, referralId }, row.formData)
    const inputHash = await sha256Hex(`${PROMPT_VERSION}\n${referralAsText(form!.definition, values)}`)
    const ids = await saveSummaries(tx, cipher, {
      clinicId,
      referralId,
      userId: user.id,
      model: work.model,
      promptVersion: work.promptVersion,
      inputHash,
      texts: { summary: work.summary, triage: work.triage, missing: work.missing },
    })
    await context.audit(tx, { action: 'ai.generate', entityType: 'referral', entityId: referralId, details: { entries: ids, model: work.model, promptVersion: work.promptVersion } })
    return 'saved'
  })
  if (!outcome) throw new Response('Not found', { status: 404 })
  if (outcome === 'decided') throw redirect(`/referrals/${referralId}`)
  return Response.json({ ok: true, message: 'Saved. Review each summary below and accept or reject it.' })
}
