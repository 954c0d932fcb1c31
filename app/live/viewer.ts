/**
 * Who opens a live socket, as the app's upgrade route tells the clinic's object: set by the app
 * after its checks (socket.server.ts), on a request only it can make (a Durable Object binding),
 * so the object trusts it; still read strictly, as anything crossing a boundary is.
 */
import { isUuid } from '~/utils/keyset'

export type Viewer = {
  userId: string
  /** Shown to the others who have the same referral open: staff of the same clinic. */
  name: string
  /** The referral the page has open, for presence; null on the queue. */
  referralId: string | null
}

export const VIEWER_HEADER = 'X-IntakePilot-Viewer'

/** URI-encoded JSON: a display name may hold any character, a header only some. */
export const writeViewer = (viewer: Viewer) => encodeURIComponent(JSON.stringify(viewer))

export function readViewer(header: string | null): Viewer | null {
  if (!header || header.length > 4096) return null
  try {
    const v = JSON.parse(decodeURIComponent(header)) as Record<string, unknown>
    if (!isUuid(v.userId) || typeof v.name !== 'string' || !(v.referralId === null || isUuid(v.referralId))) return null
    return { userId: v.userId, name: v.name.slice(0, 200), referralId: v.referralId }
  } catch {
    return null
  }
}
