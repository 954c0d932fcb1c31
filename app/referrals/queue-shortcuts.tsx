/**
 * The queue's keyboard shortcuts: j / k to the next or previous referral (focus moves to its
 * link, so Enter opens it, as it does for any link), a to assign the focused one to me, ? for
 * this help. Never while typing: a key pressed in a field, a select or an editable element is
 * the field's, and a key with Ctrl, Alt or Cmd is the browser's.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react'
import { Button } from '~/components/ui/button'
import { QUEUE_ROW, ROW_LINK } from './queue-table'

const noChange = () => () => {}

export const SHORTCUTS = [
  ['j', 'Next referral'],
  ['k', 'Previous referral'],
  ['Enter', 'Open the referral'],
  ['a', 'Assign the referral to me'],
  ['?', 'Show these shortcuts'],
] as const

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || !!target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])'))

export function QueueShortcuts() {
  const dialog = useRef<HTMLDialogElement>(null)
  // The button opens the dialog with JavaScript only: without it, it is not shown at all.
  const ready = useSyncExternalStore(
    noChange,
    () => true,
    () => false,
  )
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return
      if (dialog.current?.open) return
      const links = [...document.querySelectorAll<HTMLAnchorElement>(`${QUEUE_ROW} ${ROW_LINK}`)]
      const current = links.findIndex((link) => link.closest('tr')?.contains(document.activeElement))
      if (event.key === 'j' || event.key === 'k') {
        if (!links.length) return
        const step = event.key === 'j' ? 1 : -1
        const next = current === -1 ? (step === 1 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, current + step))
        links[next]!.focus()
        links[next]!.closest('tr')?.scrollIntoView({ block: 'nearest' })
        event.preventDefault()
      } else if (event.key === 'a' && current !== -1) {
        links[current]!.closest('tr')?.querySelector<HTMLButtonElement>('[data-assign-me]')?.click()
        event.preventDefault()
      } else if (event.key === '?') {
        dialog.current?.showModal()
        event.preventDefault()
      }
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])
  return (
    <>
      {ready ? (
        <Button type="button" onClick={() => dialog.current?.showModal()} className="hidden sm:inline-flex">
          Keyboard shortcuts <kbd className="ml-1 rounded border border-slate-300 px-1 text-xs">?</kbd>
        </Button>
      ) : null}
      <dialog
        ref={dialog}
        aria-labelledby="shortcuts-title"
        className="m-auto w-80 max-w-[calc(100vw-2rem)] rounded-lg border border-slate-200 p-5 backdrop:bg-slate-900/40"
      >
        <h2 id="shortcuts-title" className="text-lg font-semibold">
          Keyboard shortcuts
        </h2>
        <p className="mt-1 text-sm text-slate-600">Not while typing in a field.</p>
        <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
          {SHORTCUTS.map(([key, what]) => (
            <div key={key} className="contents">
              <dt>
                <kbd className="rounded border border-slate-300 bg-slate-50 px-1.5 py-0.5 font-mono">{key}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <form method="dialog" className="mt-4 text-right">
          <Button type="submit" variant="primary">
            Close
          </Button>
        </form>
      </dialog>
    </>
  )
}
