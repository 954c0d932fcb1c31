/**
 * Referrals sent while things fail: each has its idempotency key for life. A submit that was not
 * answered with success is sent again later with the same key, as a referrer (or a program) does;
 * a submit that succeeded is sent once more at the end, and must come back as the same referral.
 */
import { createRandom } from '../../tests/factories/random'
import { fakeReferralValues } from '../../tests/factories/patients'
import { REQUESTED_SERVICES } from '../../app/intake/default-form'
import type { FormValues } from '../../app/referrals/form-data.server'
import type { Answer, Client } from './traffic'

export type Intent = {
  key: string
  client: string
  via: 'page' | 'api'
  lastName: string
  /** The referral the first successful submit named (reference number). */
  reference: string | null
  attempts: number
  /** Some attempt was answered 503 (or not at all): the referrer will have seen it fail. */
  refused: boolean
  /** A later successful attempt named another referral than the first one. */
  mismatch: string | null
  /** Page only: after a refused submit, the form offered what was typed, with the same key. */
  draftOffered: boolean | null
  /** Answered with another error (e.g. 400): not sent again; a failure of its own. */
  rejected: string | null
}

export class Submitter {
  readonly intents: Intent[] = []
  private readonly random
  private readonly values = new Map<string, FormValues>()
  /** The form's hidden fields as last served, other than the idempotency key (which is the intent's). */
  private hidden: Record<string, string> = {}

  constructor(
    readonly client: Client,
    private readonly via: 'page' | 'api',
    private readonly clinicSlug: string,
    seed: number,
    private readonly deadlineMs: number,
  ) {
    this.random = createRandom(seed)
  }

  get pending() {
    return this.intents.filter((i) => !i.reference && !i.rejected)
  }

  /** A new referral, or the oldest one not yet through. */
  async step() {
    const retry = this.pending[0]
    // A referrer whose submit failed goes back to the form first: is what they typed still there?
    if (retry && this.via === 'page' && retry.refused && retry.draftOffered === null) return this.checkDraft(retry)
    if (retry) return this.attempt(retry)
    // A referrer opens the form once and keeps it open: it carries hidden fields (the draft's
    // owner token, good for hours), so a submit can land in the middle of an outage.
    if (this.via === 'page' && !this.hidden.draftOwner) {
      const form = await this.client.send('GET', '/referrals/new')
      if (form.status !== 200) return form
      this.hidden = hiddenFields(form.body)
    }
    return this.attempt(this.newIntent())
  }

  /** Sends every referral not yet through again until each is (or time runs out). */
  async drain(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs
    while (this.pending.length && Date.now() < deadline) {
      await this.attempt(this.pending[0]!)
      await new Promise((r) => setTimeout(r, 300))
    }
  }

  /** The referrer sends an already-accepted referral again (a double click, a resent form). */
  async replay(intent: Intent) {
    return this.attempt(intent)
  }

  /** Page only: what /referrals/new offers after a refused submit. */
  async checkDraft(intent: Intent) {
    const answer = await this.client.send('GET', '/referrals/new')
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(answer.body)?.[1]
    // Still down: they will reload again.
    const typed = [intent.lastName, intent.lastName.replace(/&/g, '&amp;').replace(/'/g, '&#x27;')]
    if (answer.status === 200) intent.draftOffered = key === intent.key && typed.some((t) => answer.body.includes(t))
    return answer
  }

  private newIntent(): Intent {
    const values = fakeReferralValues(this.random, {
      clinicSlug: this.clinicSlug,
      services: REQUESTED_SERVICES[this.clinicSlug]!,
      clinician: { name: 'Dr. Amara Okafor', practice: 'Maple Family Health Team' },
    })
    const intent: Intent = {
      key: crypto.randomUUID(),
      client: this.client.name,
      via: this.via,
      lastName: String(values.patient_last_name),
      reference: null,
      attempts: 0,
      refused: false,
      mismatch: null,
      draftOffered: null,
      rejected: null,
    }
    this.values.set(intent.key, values)
    this.intents.push(intent)
    return intent
  }

  private async attempt(intent: Intent): Promise<Answer> {
    intent.attempts++
    const values = this.values.get(intent.key)!
    const answer = this.via === 'api' ? await this.sendApi(intent.key, values) : await this.sendPage(intent.key, values)
    const reference = this.referenceIn(answer)
    if (reference) {
      if (intent.reference && intent.reference !== reference) intent.mismatch = `${intent.reference} then ${reference}`
      intent.reference ??= reference
    } else if (answer.status === 503 || answer.status === 0) {
      intent.refused = true
    } else if (!intent.reference) {
      intent.rejected = `${answer.status}: ${whatThePageSays(answer.body)}`
    }
    return answer
  }

  private referenceIn(answer: Answer) {
    if (this.via === 'page') {
      if (answer.status !== 302 || !answer.location) return null
      return new URL(answer.location, 'http://app').searchParams.get('submitted')
    }
    if (answer.status !== 201 && answer.status !== 200) return null
    try {
      return (JSON.parse(answer.body) as { data: { referenceNumber: string } }).data.referenceNumber
    } catch {
      return null
    }
  }

  private sendPage(key: string, values: FormValues) {
    const form = new URLSearchParams({ formVersion: '1', ...this.hidden, idempotencyKey: key })
    for (const [k, v] of Object.entries(values))
      if (v === true) form.set(k, 'on')
      else if (v !== false && v !== null && v !== '') form.set(k, String(v))
    return this.client.send('POST', '/referrals/new', { form })
  }

  private sendApi(key: string, values: FormValues) {
    // A program leaves out what it has no value for (an HTML form sends the empty field).
    const data = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''))
    return this.client.send('POST', '/api/v1/referrals', { json: { formVersion: 1, data }, headers: { 'idempotency-key': key } })
  }
}

/** The referral form's `<input type="hidden" name=... value=...>`, by name (not the layout's other forms). */
function hiddenFields(html: string) {
  const fields: Record<string, string> = {}
  const form = [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map(([f]) => f).find((f) => f.includes('name="idempotencyKey"')) ?? ''
  for (const [input] of form.matchAll(/<input\b[^>]*\btype="hidden"[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(input)?.[1]
    const value = /\bvalue="([^"]*)"/.exec(input)?.[1]
    if (name && value !== undefined && name !== 'idempotencyKey') fields[name] = value.replace(/&amp;/g, '&')
  }
  return fields
}

/** The alert (or heading) of an error page, or the API's error, as a person would read it. */
function whatThePageSays(body: string) {
  const alerts = [...body.matchAll(/role="alert"[^>]*>([\s\S]*?)<\/(?:p|div|ul|main)>/g)].map((m) =>
    m[1]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  )
  const fieldErrors = [...body.matchAll(/id="[^"]*-error"[^>]*>([^<]+)</g)].map((m) => m[1]!.trim())
  const found = [...alerts, ...fieldErrors].filter(Boolean)
  return (found.length ? found.join(' | ') : (/<h1[^>]*>([^<]+)/.exec(body)?.[1] ?? body)).slice(0, 300)
}
