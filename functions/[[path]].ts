/**
 * The Cloudflare Pages Function: every request that is not a static asset (see
 * public/_routes.json) goes through the IntakePilot request pipeline, then Remix.
 */
import type { ServerBuild } from '@remix-run/cloudflare'
// @ts-ignore: the server build exists only after `npm run build`.
import * as build from '../build/server'
import { createRequestPipeline } from '../app/server/pipeline.server'
import type { Env } from '../app/utils/env.server'

// Through unknown: the module's type is `any` before the first build and its own shape after it.
const serverBuild: unknown = build
const handle = createRequestPipeline(serverBuild as ServerBuild)

export const onRequest: PagesFunction<Env> = (context) => handle(context)
