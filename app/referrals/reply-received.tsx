/**
 * The referrer's answer at the top of the referral page, until someone at the clinic
 * acknowledges it (reply-received.server.ts). Without it, a reply sat at the bottom of the
 * history and the queue still said "Waiting on referrer".
 */
import { Form, useNavigation } from '@remix-run/react'
import { Button } from '~/components/ui/button'
import type { HistoryEvent } from './referral-details'
import { ClinicTime } from '~/utils/use-clinic-time'

/** `since`: the first reply not yet acknowledged; every reply from then on is shown, with the question before it. */
export function ReplyReceived({ since, events }: { since: string; events: HistoryEvent[] }) {
  const busy = useNavigation().state !== 'idle'
  // Both times are PostgreSQL's microseconds cut to JavaScript's milliseconds: a millisecond of slack.
  const from = Date.parse(since) - 1
  const replies = events.filter((e) => e.type === 'reply' && Date.parse(e.createdAt) >= from)
  const question = events.filter((e) => e.type === 'message' && Date.parse(e.createdAt) <= from + 1).at(-1)
  return (
    <section aria-labelledby="reply-received" className="mt-4 rounded-lg border border-sky-300 bg-sky-50 p-4 text-sm text-sky-950" data-testid="reply-received">
      <h2 id="reply-received" className="font-semibold">
        Reply received from the referrer
      </h2>
      {question?.body ? (
        <p className="mt-1 text-sky-900">
          In answer to: <span className="whitespace-pre-wrap">{question.body}</span>
        </p>
      ) : null}
      <ol className="mt-2 space-y-2">
        {replies.map((reply) => (
          <li key={reply.id} className="rounded-md border border-sky-200 bg-white p-3">
            <p className="text-xs text-slate-600">
              {reply.actor?.displayName ?? 'The referrer'} · <ClinicTime iso={reply.createdAt} />
            </p>
            <p className="mt-1 whitespace-pre-wrap text-slate-900">{reply.body}</p>
          </li>
        ))}
      </ol>
      <Form method="post" className="mt-3 flex flex-wrap items-center gap-3">
        <input type="hidden" name="intent" value="acknowledge-reply" />
        <Button type="submit" variant="primary" disabled={busy}>
          Mark reply as seen
        </Button>
        <span className="text-xs text-sky-900">It stays here, and marked in the queue, until someone marks it seen.</span>
      </Form>
    </section>
  )
}
