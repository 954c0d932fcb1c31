import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { openLiveSocket } from '~/live/socket.server'

/** The live queue's WebSocket: checked here, then handed to the clinic's object (docs/decisions/045-live-queue.md). */
export async function loader({ request, context }: LoaderFunctionArgs) {
  return openLiveSocket(request, context)
}
