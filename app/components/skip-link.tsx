/**
 * "Skip to main content": the first thing Tab reaches on every page, hidden until it has focus
 * (WCAG 2.4.1). It leads to the element with MAIN_CONTENT as its id: the app shell's content
 * (everything under the header and navigation), or the `<main>` of a page outside the shell.
 * That element takes focus (tabIndex -1), so the next Tab goes on from there.
 */
export const MAIN_CONTENT = 'main-content'

export function SkipLink() {
  return (
    <a
      href={`#${MAIN_CONTENT}`}
      className="sr-only rounded-md bg-white px-3 py-2 text-sm font-medium text-brand-800 shadow-md ring-2 ring-brand-600 focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50"
    >
      Skip to main content
    </a>
  )
}
