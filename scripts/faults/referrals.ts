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
    return retry ? this.attempt(retry) : this.attempt(this.newIntent())
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
      intent.rejected = `${answer.status}: ${answer.body.slice(0, 200)}`
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
    const form = new URLSearchParams({ idempotencyKey: key, formVersion: '1' })
    for (const [k, v] of Object.entries(values)) if (v === true) form.set(k, 'on'); else if (v !== false && v !== null && v !== '') form.set(k, String(v))
    return this.client.send('POST', '/referrals/new', { form })
  }

  private sendApi(key: string, values: FormValues) {
    // A program leaves out what it has no value for (an HTML form sends the empty field).
    const data = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''))
    return this.client.send('POST', '/api/v1/referrals', { json: { formVersion: 1, data }, headers: { 'idempotency-key': key } })
  }
}
