/**
 * AI summaries with provenance (processing_results.summaries): every generation is kept,
 * each entry with its text encrypted (it is PHI), the model, the prompt version, a hash of
 * the input, who generated it and when. Staff accept or reject each; only the latest
 * accepted one of a kind is the referral's summary.
 */
import { and, eq } from 'drizzle-orm'
import type { PhiCipher } from '~/crypto/phi.server'
import { processingResults, type EncryptedValue } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { SummaryKind } from './prompts'

export type SummaryEntry = {
  id: string
  kind: SummaryKind
  text: EncryptedValue
  model: string
  promptVersion: string
  inputHash: string
  generatedBy: string
  generatedAt: string
  decision: 'pending' | 'accepted' | 'rejected'
  decidedBy?: string
  decidedAt?: string
}
type Stored = { entries?: SummaryEntry[] }


async function load(tx: TenantTx, clinicId: string, referralId: string) {
  const [row] = await tx
    .select()
    .from(processingResults)
    .where(and(eq(processingResults.clinicId, clinicId), eq(processingResults.referralId, referralId)))
    .for('update')
  return row ?? null
}

async function store(tx: TenantTx, clinicId: string, referralId: string, existing: { id: string } | null, entries: SummaryEntry[]) {
  if (existing) {
    await tx.update(processingResults).set({ summaries: { entries }, updatedAt: new Date() }).where(eq(processingResults.id, existing.id))
  } else {
    await tx.insert(processingResults).values({ clinicId, referralId, summaries: { entries } })
  }
}

export async function saveSummaries(
  tx: TenantTx,
  cipher: PhiCipher,
  input: { clinicId: string; referralId: string; userId: string; model: string; promptVersion: string; inputHash: string; texts: Record<SummaryKind, string> },
) {
  const row = await load(tx, input.clinicId, input.referralId)
  const entries = [...(((row?.summaries ?? {}) as Stored).entries ?? [])]
  const now = new Date().toISOString()
  const added: string[] = []
  for (const [kind, text] of Object.entries(input.texts) as [SummaryKind, string][]) {
    const id = crypto.randomUUID()
    entries.push({
      id,
      kind,
      text: await cipher.encrypt(text, { clinicId: input.clinicId, recordId: id, field: `summary:${kind}` }),
      model: input.model,
      promptVersion: input.promptVersion,
      inputHash: input.inputHash,
      generatedBy: input.userId,
      generatedAt: now,
      decision: 'pending',
    })
    added.push(id)
  }
  await store(tx, input.clinicId, input.referralId, row, entries)
  return added
}

export async function decideSummary(
  tx: TenantTx,
  input: { clinicId: string; referralId: string; entryId: string; decision: 'accepted' | 'rejected'; userId: string },
) {
  const row = await load(tx, input.clinicId, input.referralId)
  const entries = (((row?.summaries ?? {}) as Stored).entries ?? []).map((e) =>
    e.id === input.entryId ? { ...e, decision: input.decision, decidedBy: input.userId, decidedAt: new Date().toISOString() } : e,
  )
  if (!row || !entries.some((e) => e.id === input.entryId)) return false
  await store(tx, input.clinicId, input.referralId, row, entries)
  return true
}

/** The entries, decrypted, newest first; and the accepted summary of each kind. */
export async function readSummaries(tx: TenantTx, cipher: PhiCipher, clinicId: string, referralId: string) {
  const [row] = await tx
    .select({ summaries: processingResults.summaries })
    .from(processingResults)
    .where(and(eq(processingResults.clinicId, clinicId), eq(processingResults.referralId, referralId)))
  const entries = ((row?.summaries ?? {}) as Stored).entries ?? []
  const open = await Promise.all(
    entries.map(async (e) => ({
      ...e,
      text: await cipher.decrypt(e.text, { clinicId, recordId: e.id, field: `summary:${e.kind}` }),
    })),
  )
  open.sort((a, b) => b.generatedAt.localeCompare(a.generatedAt))
  return open
}
