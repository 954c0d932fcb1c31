/**
 * "Generate AI summaries": the browser sends this referral to the model server on the staff
 * member's own machine (never to IntakePilot's server or anyone else), three prompts at
 * once, streaming into the page; then the finished texts are saved with their provenance.
 * Shown only with JavaScript (the model is reached from the browser).
 */
import { Form, useFetcher } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { KIND_LABELS, messagesFor, PROMPT_VERSION, SUMMARY_KINDS, type SummaryKind } from './prompts'
import { listModels, LocalModelUnreachable, streamChat } from './local-model'
import { ClinicTime } from '~/utils/use-clinic-time'

export type ShownSummary = {
  id: string
  kind: SummaryKind
  text: string
  model: string
  promptVersion: string
  generatedAt: string
  generatedByName: string
  decision: 'pending' | 'accepted' | 'rejected'
}

type Run = { state: 'idle' | 'connecting' | 'streaming' | 'saving' | 'done' | 'failed' | 'cancelled'; texts: Record<SummaryKind, string>; error?: string }
const EMPTY = { summary: '', triage: '', missing: '' }

export function AiPanel({
  referralId,
  endpoint,
  source,
  referralText,
  summaries,
}: {
  referralId: string
  endpoint: string
  source: 'you' | 'clinic' | 'default'
  referralText: string
  summaries: ShownSummary[]
}) {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  const [models, setModels] = useState<string[]>([])
  const [model, setModel] = useState('')
  const [run, setRun] = useState<Run>({ state: 'idle', texts: EMPTY })
  const abort = useRef<AbortController | null>(null)
  const save = useFetcher<{ ok: boolean; message: string }>()
  const action = `/referrals/${referralId}/summaries`

  async function generate() {
    abort.current?.abort()
    const controller = new AbortController()
    abort.current = controller
    setRun({ state: 'connecting', texts: { ...EMPTY } })
    try {
      const available = models.length ? models : await listModels(endpoint, controller.signal)
      if (!available.length) throw new LocalModelUnreachable()
      setModels(available)
      const chosen = model && available.includes(model) ? model : available[0]!
      setModel(chosen)
      setRun({ state: 'streaming', texts: { ...EMPTY } })
      const results = await Promise.all(
        SUMMARY_KINDS.map((kind) =>
          streamChat(endpoint, {
            model: chosen,
            messages: messagesFor(kind, referralText),
            signal: controller.signal,
            onToken: (piece) => setRun((r) => ({ ...r, texts: { ...r.texts, [kind]: r.texts[kind] + piece } })),
          }),
        ),
      )
      // Only a complete set is saved: a failure or a cancel above leaves nothing half-done.
      const texts = Object.fromEntries(SUMMARY_KINDS.map((k, i) => [k, results[i]!])) as Record<SummaryKind, string>
      setRun({ state: 'saving', texts })
      save.submit({ intent: 'save', model: chosen, promptVersion: PROMPT_VERSION, ...texts }, { method: 'post', action })
    } catch (error) {
      if ((error as Error).name === 'AbortError') setRun((r) => ({ ...r, state: 'cancelled' }))
      else setRun((r) => ({ ...r, state: 'failed', error: error instanceof LocalModelUnreachable ? 'unreachable' : 'failed' }))
    }
  }

  const busy = run.state === 'connecting' || run.state === 'streaming'
  const accepted = SUMMARY_KINDS.map((kind) => summaries.find((s) => s.kind === kind && s.decision === 'accepted')).filter(Boolean) as ShownSummary[]
  return (
    <section aria-labelledby="ai-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="ai-heading" className="font-semibold">
        AI summaries
      </h2>
      {accepted.length ? (
        <div className="mt-3 space-y-3" data-testid="accepted-summaries">
          {accepted.map((s) => (
            <div key={s.id} className="rounded-md bg-emerald-50 p-3 text-sm">
              <p className="font-medium text-emerald-900">
                {KIND_LABELS[s.kind]} <span className="font-normal text-emerald-800">(accepted)</span>
              </p>
              <p className="mt-1 whitespace-pre-wrap text-slate-800">{s.text}</p>
              <p className="mt-1 text-xs text-slate-500">
                {s.model} · {s.promptVersion} · {s.generatedByName} · <ClinicTime iso={s.generatedAt} />
              </p>
            </div>
          ))}
        </div>
      ) : null}
      {hydrated ? (
        <div className="mt-3 space-y-3">
          <p className="text-xs text-slate-600" data-testid="ai-destination">
            The referral is sent from this browser only to <span className="font-mono">{endpoint}</span>
            {source === 'you' ? ' (your setting)' : source === 'clinic' ? ' (your clinic’s setting)' : ' (LM Studio’s default)'}, never to IntakePilot or anyone
            else.{' '}
            <a href="/settings/ai" className="underline">
              Change
            </a>
          </p>
          <div className="flex flex-wrap items-center gap-2">
            {models.length > 1 ? (
              <label className="text-sm">
                Model{' '}
                <select value={model} onChange={(e) => setModel(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1">
                  {models.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            <button
              type="button"
              onClick={generate}
              disabled={busy}
              className="rounded-md bg-brand-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-800 disabled:opacity-60"
            >
              {busy ? 'Generating…' : 'Generate AI summaries'}
            </button>
            {busy ? (
              <button type="button" onClick={() => abort.current?.abort()} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm">
                Cancel
              </button>
            ) : null}
          </div>
          {run.state === 'failed' ? (
            <div role="alert" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
              <p className="font-medium">The local model server at {endpoint} could not be reached. Nothing was saved.</p>
              <p className="mt-1">
                Start LM Studio, load a model, and start its server (Developer tab → Start Server). Turn on “Enable CORS” in the server settings so this page
                may talk to it, then try again.
              </p>
            </div>
          ) : null}
          {run.state === 'cancelled' ? (
            <p role="status" className="text-sm text-slate-600">
              Cancelled. Nothing was saved.
            </p>
          ) : null}
          {save.data ? (
            <p role="status" className="text-sm text-slate-700">
              {save.data.message}
            </p>
          ) : null}
          {run.state !== 'idle' && run.state !== 'failed' ? (
            <div className="space-y-2">
              {SUMMARY_KINDS.map((kind) => (
                <div key={kind} className="rounded-md border border-slate-200 p-2 text-sm" data-testid={`stream-${kind}`}>
                  <p className="font-medium">{KIND_LABELS[kind]}</p>
                  <p className="mt-1 whitespace-pre-wrap text-slate-700">{run.texts[kind] || '…'}</p>
                </div>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
      {summaries.length ? (
        <details className="mt-4">
          <summary className="cursor-pointer text-sm font-medium">All generated summaries ({summaries.length})</summary>
          <ul className="mt-2 space-y-2">
            {summaries.map((s) => (
              <li key={s.id} className="rounded-md border border-slate-200 p-2 text-sm" data-testid="summary-entry">
                <p className="font-medium">
                  {KIND_LABELS[s.kind]} · <span className="text-slate-500">{s.decision}</span>
                </p>
                <p className="mt-1 whitespace-pre-wrap text-slate-700">{s.text}</p>
                <p className="mt-1 text-xs text-slate-500">
                  {s.model} · {s.promptVersion} · {s.generatedByName} · <ClinicTime iso={s.generatedAt} />
                </p>
                {s.decision === 'pending' ? (
                  <div className="mt-2 flex gap-2">
                    {(['accepted', 'rejected'] as const).map((decision) => (
                      <Form key={decision} method="post" action={action}>
                        <input type="hidden" name="intent" value="decide" />
                        <input type="hidden" name="entryId" value={s.id} />
                        <input type="hidden" name="decision" value={decision} />
                        <button type="submit" className="rounded-md border border-slate-300 px-2 py-1 text-xs font-medium hover:bg-slate-50">
                          {decision === 'accepted' ? 'Accept' : 'Reject'}
                        </button>
                      </Form>
                    ))}
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  )
}
