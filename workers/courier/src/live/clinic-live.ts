/**
 * One clinic's live queue: a Durable Object per clinic, named by its clinic id
 * (docs/decisions/045-live-queue.md). It holds the open queue and referral pages of that clinic's
 * staff as hibernatable WebSockets, tells them of each change the live channel brings, and tells
 * the pages of one referral who else has it open.
 *
 * Two ways in, both only from inside Cloudflare (nothing routes the internet here):
 * - `/socket`: the app's upgrade route, once it has checked the staff member (app/live/socket.server.ts),
 *   with who they are in a header only the app can set;
 * - `POST /change`: the courier's live channel, one outbox event of this clinic.
 */
import { DurableObject } from 'cloudflare:workers'
import { liveChange, PING, PONG, RENEW, type LiveChange, type LiveMessage } from '~/live/messages'
import { readViewer, VIEWER_HEADER, type Viewer } from '~/live/viewer'
import type { CourierEnv } from '../env'

/**
 * A socket lives this long, then is closed with RENEW: the page opens another through the app,
 * which checks again that its user is still signed in, active and staff of this clinic.
 * LIVE_SOCKET_MAX_AGE_SECONDS shortens it (the e2e stack, so that a test sees a renewal).
 */
export const SOCKET_MAX_AGE_MS = 10 * 60_000
export function socketMaxAgeMs(env: CourierEnv): number {
  const seconds = Number(env.LIVE_SOCKET_MAX_AGE_SECONDS)
  return Number.isInteger(seconds) && seconds >= 10 && seconds <= 3600 ? seconds * 1000 : SOCKET_MAX_AGE_MS
}
/** Past this many sockets of one user (tabs), the oldest is closed: one account cannot fill the object. */
const SOCKETS_PER_USER = 20
/** Changes already told, kept this long: a change the courier brings twice is told once. */
const SEEN_FOR_MS = 60 * 60_000

type Attachment = Viewer & { openedAt: number }

export class ClinicLive extends DurableObject<CourierEnv> {
  private readonly maxAgeMs: number

  constructor(ctx: DurableObjectState, env: CourierEnv) {
    super(ctx, env)
    this.maxAgeMs = socketMaxAgeMs(env)
    // Keep-alives are answered by the runtime: they neither wake the object nor bill it.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
    ctx.storage.sql.exec('create table if not exists told (id integer primary key, at integer not null)')
  }

  override async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/socket') return this.open(request)
    if (pathname === '/change' && request.method === 'POST') return this.announce(liveChange(await request.json().catch(() => null)))
    return new Response('Not found', { status: 404 })
  }

  private async open(request: Request): Promise<Response> {
    const viewer = readViewer(request.headers.get(VIEWER_HEADER))
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket' || !viewer) return new Response('Bad request', { status: 400 })
    const mine = this.ctx.getWebSockets(`user:${viewer.userId}`).sort((a, b) => openedAt(a) - openedAt(b))
    for (const old of mine.slice(0, Math.max(0, mine.length - SOCKETS_PER_USER + 1))) {
      closeQuietly(old, 1008, 'Too many open pages')
      this.left(old)
    }
    const { 0: client, 1: server } = new WebSocketPair()
    const tags = [`user:${viewer.userId}`, ...(viewer.referralId ? [`referral:${viewer.referralId}`] : [])]
    this.ctx.acceptWebSocket(server, tags)
    server.serializeAttachment({ ...viewer, openedAt: Date.now() } satisfies Attachment)
    if (viewer.referralId) this.sharePresence(viewer.referralId)
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.maxAgeMs)
    return new Response(null, { status: 101, webSocket: client })
  }

  /** Tells every open page of the clinic, once per outbox event. */
  private announce(change: LiveChange | null): Response {
    if (!change) return new Response('Bad request', { status: 400 })
    const now = Date.now()
    const fresh = this.ctx.storage.sql.exec('insert into told (id, at) values (?, ?) on conflict do nothing', change.id, now).rowsWritten > 0
    if (fresh) {
      this.ctx.storage.sql.exec('delete from told where at < ?', now - SEEN_FOR_MS)
      const text = JSON.stringify(change satisfies LiveMessage)
      for (const socket of this.ctx.getWebSockets()) sendQuietly(socket, text)
    }
    return new Response(null, { status: 204 })
  }

  /** Each page of the referral hears who else has it open: other people, by name, each once. */
  private sharePresence(referralId: string, leaving?: WebSocket) {
    const sockets = this.ctx.getWebSockets(`referral:${referralId}`).filter((s) => s !== leaving)
    const viewers = sockets.map((s) => s.deserializeAttachment() as Attachment)
    for (const [i, socket] of sockets.entries()) {
      const people = new Map<string, string>()
      for (const v of viewers) if (v.userId !== viewers[i]!.userId) people.set(v.userId, v.name)
      const message: LiveMessage = { type: 'presence', referralId, people: [...people].map(([id, name]) => ({ id, name })) }
      sendQuietly(socket, JSON.stringify(message))
    }
  }

  /** The page only listens (its keep-alive is answered above): anything it says ends the socket. */
  override async webSocketMessage(socket: WebSocket) {
    closeQuietly(socket, 1008, 'This socket only listens')
    this.left(socket)
  }

  override async webSocketClose(socket: WebSocket, code: number) {
    closeQuietly(socket, code === 1005 || code === 1006 ? 1000 : code, 'Closed')
    this.left(socket)
  }

  override async webSocketError(socket: WebSocket) {
    this.left(socket)
  }

  /** Closes the sockets past their age (the page comes back through the app's check); wakes again for the next. */
  override async alarm() {
    const now = Date.now()
    let next = Infinity
    for (const socket of this.ctx.getWebSockets()) {
      const opened = openedAt(socket)
      if (now - opened >= this.maxAgeMs) {
        closeQuietly(socket, RENEW, 'Open the live queue again')
        this.left(socket)
      } else next = Math.min(next, opened + this.maxAgeMs)
    }
    if (next < Infinity) await this.ctx.storage.setAlarm(next)
  }

  private left(socket: WebSocket) {
    const { referralId } = (socket.deserializeAttachment() ?? {}) as Partial<Attachment>
    if (referralId) this.sharePresence(referralId, socket)
  }
}

const openedAt = (socket: WebSocket) => (socket.deserializeAttachment() as Attachment).openedAt

function sendQuietly(socket: WebSocket, text: string) {
  try {
    socket.send(text)
  } catch {
    // Closing already: its page reconnects, or has gone.
  }
}

function closeQuietly(socket: WebSocket, code: number, reason: string) {
  try {
    socket.close(code, reason)
  } catch {
    // Already closed.
  }
}
