/**
 * The lists of the app (queue, audit trail, access history, users): a white card that scrolls
 * sideways on a narrow screen instead of the page, a grey header row, a line between rows.
 */
import { createContext, useContext, type ReactNode, type TdHTMLAttributes, type ThHTMLAttributes } from 'react'
import { cx } from './control'

/** Dense tables (the audit trail: eight columns of ids) pad their cells less. */
const Dense = createContext(false)
const cellPadding = (dense: boolean) => (dense ? 'px-3 py-2' : 'px-4 py-2')

export function Table({ children, dense = false, busy = false, className }: { children: ReactNode; dense?: boolean; busy?: boolean; className?: string }) {
  return (
    <Dense.Provider value={dense}>
      {/* Dimmed while the next page of rows loads. Positioned, so that a visually hidden header
          (absolutely placed) stays inside the card that scrolls instead of widening the page. */}
      <div className={cx('relative overflow-x-auto rounded-lg border border-slate-200 bg-white', busy && 'opacity-60', className)}>
        <table className="w-full text-left text-sm">{children}</table>
      </div>
    </Dense.Provider>
  )
}

/** The header row: one <Th> per column. */
export function TableHead({ children }: { children: ReactNode }) {
  return (
    <thead className="bg-slate-50 text-slate-500">
      <tr>{children}</tr>
    </thead>
  )
}

export function Th({ className, ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
  return <th {...props} className={cx(cellPadding(useContext(Dense)), 'font-medium', className)} />
}

export function TableBody({ children }: { children: ReactNode }) {
  return <tbody className="divide-y divide-slate-100">{children}</tbody>
}

export function Td({ className, ...props }: TdHTMLAttributes<HTMLTableCellElement>) {
  return <td {...props} className={cx(cellPadding(useContext(Dense)), className)} />
}

/** What an empty list says, across every column. */
export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="px-4 py-10 text-center text-slate-500">
        {children}
      </td>
    </tr>
  )
}
