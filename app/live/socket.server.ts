/**
 * Opening a live socket (docs/decisions/045-live-queue.md): the app checks, before anything is
 * upgraded, that a signed-in staff member of a clinic asks for it from one of the app's own pages;
 * then it hands the upgrade to that clinic's object, saying who they are. The object is chosen
 * by the user's clinic, never by anything the browser sent: no socket can listen to another clinic.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { hasPermission } from '~/auth/permissions'
import { isUuid } from '~/utils/keyset'
import { VIEWER_HEADER, writeViewer } from './viewer'

const refuse = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers } })

export async function openLiveSocket(request: Request, context: AppLoadContext): Promise<Response> {
  if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
    throw refuse(426, 'This address is the live queue’s WebSocket: a page of IntakePilot opens it. Nothing else is here.', { Upgrade: 'websocket' })
  }
  // Browsers send the Origin of every WebSocket handshake: a page of another site is refused, so
  // it cannot listen with the user's cookie (cross-site WebSocket hijacking).
  if (!isOwnOrigin(request, context.env.APP_ORIGIN)) throw refuse(403, 'The live queue opens only from IntakePilot’s own pages.')
  const user = context.user
  if (!user) throw refuse(401, 'Sign in to see the live queue.')
  if (!user.clinicId || !hasPermission(user, 'read:referral:any')) throw refuse(403, 'The live queue is for the clinic’s staff.')
  const referral = new URL(request.url).searchParams.get('referral')
  if (referral !== null && !isUuid(referral)) throw refuse(400, 'The referral to watch must be a referral id.')
  const live = context.env.CLINIC_LIVE
  if (!live) throw refuse(503, 'The live queue is not available here; the queue still works by reloading it.', { 'Retry-After': '60' })

  const clinic = live.get(live.idFromName(user.clinicId))
  return clinic.fetch('https://clinic-live/socket', {
    headers: { Upgrade: 'websocket', [VIEWER_HEADER]: writeViewer({ userId: user.id, name: user.displayName, referralId: referral }) },
  })
}

function isOwnOrigin(request: Request, appOrigin: string | undefined) {
  const origin = request.headers.get('Origin')
  if (!origin) return false
  const own = [new URL(request.url).origin, ...(appOrigin ? [safeOrigin(appOrigin)] : [])]
  return own.includes(safeOrigin(origin))
}

function safeOrigin(value: string) {
  try {
    const origin = new URL(value).origin
    return origin === 'null' ? '' : origin
  } catch {
    return ''
  }
}
