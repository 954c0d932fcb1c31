/** The companion Worker's bindings (wrangler.toml here, secrets by `wrangler secret put`). */
export interface CourierEnv {
  APP_ENV?: string
  /** The runtime role's connection string, as the app's (decision 038 says why the same role). */
  DATABASE_URL: string
  /** host:port of the local WebSocket relay; unset on Neon. */
  DATABASE_WS_PROXY?: string
  /** The app's public origin: links in what is sent point there. */
  APP_ORIGIN?: string
  /** '1': claim nothing (the bench, whose per-page figures must be the app's alone). */
  COURIER_PAUSED?: string
  /** Seconds a live socket lives before it is renewed through the app (default 600; 10 to 3600). */
  LIVE_SOCKET_MAX_AGE_SECONDS?: string
  /** Each clinic's live queue (live/clinic-live.ts). */
  CLINIC_LIVE: DurableObjectNamespace
  /** Channels add their own bindings (SMTP_*, WEBHOOK_*) in their folder's env type. */
  [binding: string]: unknown
}
