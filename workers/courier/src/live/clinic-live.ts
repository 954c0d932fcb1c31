/** One clinic's live queue: a Durable Object per clinic, named by its clinic id. */
import { DurableObject } from 'cloudflare:workers'
import type { CourierEnv } from '../env'

export class ClinicLive extends DurableObject<CourierEnv> {
  override async fetch(): Promise<Response> {
    return new Response('Not found', { status: 404 })
  }
}
