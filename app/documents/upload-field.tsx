/**
 * The file input of every form that takes documents (the intake form, a reply, staff attaching,
 * staff entry of a faxed referral). Without JavaScript it is a plain `<input type="file"
 * multiple>` in a multipart form. With JavaScript the chosen files are listed, each can be
 * removed before the form is sent, and, when the form is sent with useDocumentUpload, each
 * shows how much of it has gone. The server checks everything again (app/documents/upload.server.ts).
 */
import { useNavigate } from '@remix-run/react'
import { useRef, useState, type FormEvent } from 'react'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { DOCUMENTS_FIELD, formatBytes, type DocumentLimits } from './limits'

/** What the file picker offers; the server decides from the bytes, not from this. */
const ACCEPT = '.pdf,.jpg,.jpeg,.png,.tif,.tiff,.txt,application/pdf,image/jpeg,image/png,image/tiff,text/plain'

export type UploadProgress = { sent: number; total: number } | null

export function DocumentsField({
  id = 'documents',
  label = 'Documents',
  limits,
  errors,
  progress = null,
}: {
  id?: string
  label?: string
  limits: DocumentLimits
  errors?: string[]
  progress?: UploadProgress
}) {
  const input = useRef<HTMLInputElement>(null)
  const [files, setFiles] = useState<File[]>([])

  // The input holds what is sent; the list mirrors it. Removing rebuilds the input's FileList.
  const sync = (next: File[]) => {
    const transfer = new DataTransfer()
    for (const file of next) transfer.items.add(file)
    if (input.current) input.current.files = transfer.files
    setFiles(next)
  }
  const helpId = `${id}-help`
  const errorId = `${id}-error`
  return (
    <div className="mt-6" data-testid="documents-field">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input
        ref={input}
        id={id}
        name={DOCUMENTS_FIELD}
        type="file"
        multiple
        accept={ACCEPT}
        aria-describedby={errors?.length ? `${helpId} ${errorId}` : helpId}
        aria-invalid={errors?.length ? true : undefined}
        onChange={(event) => setFiles(Array.from(event.currentTarget.files ?? []))}
        className="mt-1 block w-full text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-50"
      />
      <p id={helpId} className="mt-1 text-sm text-slate-600">
        PDF, JPEG, PNG, TIFF or plain text; up to {formatBytes(limits.fileBytes)} a file and {formatBytes(limits.referralBytes)} in all.
      </p>
      {/* Only JavaScript fills this list (onChange): without it the input alone shows the choice. */}
      {files.length ? (
        <ul className="mt-2 divide-y divide-slate-200 rounded-md border border-slate-200" aria-label="Chosen files">
          {files.map((file, i) => {
            const share = shareOf(files, i, progress)
            return (
              <li key={`${file.name}-${i}`} className="flex flex-wrap items-center gap-3 px-3 py-2 text-sm" data-testid="chosen-file">
                <span className="min-w-0 flex-1 break-all">{file.name}</span>
                <span className="text-slate-600">{formatBytes(file.size)}</span>
                {share !== null ? (
                  <progress className="h-2 w-28" max={1} value={share} aria-label={`${file.name} sent`}>
                    {Math.round(share * 100)}%
                  </progress>
                ) : (
                  <Button size="xs" onClick={() => sync(files.filter((_, j) => j !== i))} aria-label={`Remove ${file.name}`}>
                    Remove
                  </Button>
                )}
              </li>
            )
          })}
        </ul>
      ) : null}
      <FieldError id={errorId} errors={errors} />
    </div>
  )
}

/** How much of file i has gone: the body's other fields come first, then the files in order. */
function shareOf(files: File[], i: number, progress: UploadProgress) {
  if (!progress) return null
  const sizes = files.map((f) => f.size)
  const allFiles = sizes.reduce((a, b) => a + b, 0)
  const before = progress.total - allFiles + sizes.slice(0, i).reduce((a, b) => a + b, 0)
  if (!sizes[i]) return progress.sent >= progress.total ? 1 : 0
  return Math.min(1, Math.max(0, (progress.sent - before) / sizes[i]))
}

export type UploadAnswer<R> = { redirectTo: string } | { result: R; problems?: string[]; message?: string }

/**
 * Sends a multipart form with XMLHttpRequest (fetch reports no upload progress) to `endpoint`,
 * a resource route that answers JSON (UploadAnswer): a redirect to follow, or the form's result
 * to show. Without JavaScript the form posts to its page's action as usual.
 */
export function useDocumentUpload<R>(endpoint: string) {
  const navigate = useNavigate()
  const [progress, setProgress] = useState<UploadProgress>(null)
  const [answer, setAnswer] = useState<{ result: R; problems?: string[]; message?: string } | null>(null)
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    if (event.defaultPrevented) return // the form's own validation refused it
    event.preventDefault()
    const form = event.currentTarget
    const body = new FormData(form)
    const request = new XMLHttpRequest()
    request.open('POST', endpoint)
    request.responseType = 'json'
    request.upload.onprogress = (e) => setProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : e.loaded })
    request.onload = () => {
      setProgress(null)
      // Signed out meanwhile: the page's own action keeps what was typed and asks them to sign in.
      if (request.status === 401) return form.submit()
      const reply = request.response as UploadAnswer<R> | { error?: string } | null
      if (reply && 'redirectTo' in reply) return navigate(reply.redirectTo)
      if (reply && 'result' in reply) return setAnswer(reply)
      setAnswer({ result: undefined as R, message: reply?.error ?? 'The form could not be sent. Try again.' })
    }
    request.onerror = () => {
      setProgress(null)
      setAnswer({ result: undefined as R, message: 'The connection was lost while sending. Nothing was saved; try again.' })
    }
    setProgress({ sent: 0, total: 1 })
    request.send(body)
  }
  return { onSubmit, progress, answer, sending: progress !== null }
}
