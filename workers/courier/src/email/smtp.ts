/**
 * SMTP over the Workers TCP socket API (`cloudflare:sockets`) with worker-mailer, configured by
 * bindings: SMTP_HOST, SMTP_PORT, SMTP_SECURE ("true": TLS from the start, port 465),
 * SMTP_STARTTLS ("false" only for the local catcher), SMTP_USERNAME, SMTP_PASSWORD (a secret:
 * `wrangler secret put SMTP_PASSWORD`), MAIL_FROM ("Name <address>" or an address).
 */
import { WorkerMailer, LogLevel } from 'worker-mailer'
import type { CourierEnv } from '../env'
import type { ComposedEmail } from './compose'

export type MailEnv = CourierEnv & {
  SMTP_HOST?: string
  SMTP_PORT?: string
  SMTP_SECURE?: string
  SMTP_STARTTLS?: string
  SMTP_USERNAME?: string
  SMTP_PASSWORD?: string
  MAIL_FROM?: string
}

export type Outgoing = ComposedEmail & { to: string; messageId: string }
export type Mailer = { send(email: Outgoing): Promise<void>; close(): Promise<void> }

/** Why a send failed, as a code we store (an SMTP reply can quote the message: never stored). */
export class MailError extends Error {
  constructor(readonly code: 'smtp_not_configured' | 'smtp_unreachable' | 'smtp_rejected') {
    super(code)
    this.name = 'MailError'
  }
}

const TIMEOUT_MS = 10_000

export function mailFrom(env: MailEnv): { name?: string; email: string } {
  const from = env.MAIL_FROM ?? 'IntakePilot <notifications@intakepilot.invalid>'
  const match = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from)
  return match ? { name: match[1] || undefined, email: match[2]! } : { email: from.trim() }
}

export async function connectMailer(env: MailEnv): Promise<Mailer> {
  if (!env.SMTP_HOST) throw new MailError('smtp_not_configured')
  const secure = env.SMTP_SECURE === 'true'
  const mailer = await WorkerMailer.connect({
    host: env.SMTP_HOST,
    port: Number(env.SMTP_PORT ?? (secure ? 465 : 587)),
    secure,
    startTls: env.SMTP_STARTTLS !== 'false',
    credentials: env.SMTP_USERNAME ? { username: env.SMTP_USERNAME, password: env.SMTP_PASSWORD ?? '' } : undefined,
    authType: ['plain', 'login'],
    // Its INFO lines name the host on every connection; its errors quote the server's replies.
    logLevel: LogLevel.NONE,
    socketTimeoutMs: TIMEOUT_MS,
    responseTimeoutMs: TIMEOUT_MS,
  }).catch(() => {
    throw new MailError('smtp_unreachable')
  })
  const from = mailFrom(env)
  return {
    async send(email) {
      await mailer
        .send({
          from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          // Stable per delivery: a copy sent twice (a run that died after the server took it)
          // is recognisably the same message.
          headers: { 'Message-ID': email.messageId },
        })
        .catch(() => {
          throw new MailError('smtp_rejected')
        })
    },
    close: () => mailer.close().catch(() => {}),
  }
}
