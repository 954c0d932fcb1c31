/**
 * The page's end of its clinic's live socket (docs/decisions/045-live-queue.md): opened after the
 * page has loaded (without JavaScript there is none, and the page is the plain one), kept alive,
 * opened again after a drop with backoff. The socket says what changed; the page decides what to
 * fetch, through its loaders.
 */
import { useEffect, useRef, useState } from 'react'
import { LIVE_PATH, PING, readLiveMessage, RENEW, type LiveMessage } from './messages'

const KEEP_ALIVE_MS = 30_000
const MAX_BACKOFF_MS = 60_000

export type LiveOptions = {
  /** The referral the page has open: its presence is shared with the clinic's other pages of it. */
  referralId?: string | null
  onMessage: (message: LiveMessage) => void
  /** The socket is open again after a drop: what changed meanwhile was not heard. */
  onReconnect?: () => void
  /** The socket dropped: what it said (who else is here) may be out of date. */
  onDrop?: () => void
}

/** Where the socket is: said on the page (data-live) for the tests and whoever looks. */
export type LiveState = 'off' | 'connecting' | 'open' | 'closed'

export function useClinicLive(options: LiveOptions): LiveState {
  const [state, setState] = useState<LiveState>('off')
  const latest = useRef(options)
  useEffect(() => {
    latest.current = options
  })
  const referralId = options.referralId ?? null

  useEffect(() => {
    if (typeof WebSocket === 'undefined') return
    let socket: WebSocket | null = null
    let stopped = false
    let wasOpen = false
    let failures = 0
    let retry: ReturnType<typeof setTimeout> | undefined

    const connect = () => {
      const url = new URL(LIVE_PATH, window.location.href)
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
      if (referralId) url.searchParams.set('referral', referralId)
      const opened = new WebSocket(url)
      socket = opened
      setState('connecting')
      opened.onopen = () => {
        setState('open')
        failures = 0
        if (wasOpen) latest.current.onReconnect?.()
        wasOpen = true
      }
      opened.onmessage = (event) => {
        const message = readLiveMessage(event.data)
        if (message) latest.current.onMessage(message)
      }
      opened.onclose = (event) => {
        if (stopped) return
        setState('closed')
        latest.current.onDrop?.()
        // A socket past its age comes back at once; a refused or broken one waits longer each time.
        failures = event.code === RENEW ? 0 : failures + 1
        retry = setTimeout(connect, failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures))
      }
    }
    connect()
    const keepAlive = setInterval(() => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(PING)
    }, KEEP_ALIVE_MS)
    return () => {
      stopped = true
      clearTimeout(retry)
      clearInterval(keepAlive)
      socket?.close(1000)
    }
  }, [referralId])
  return state
}
