/**
 * A dashboard chart: the marks drawn on the server (charts.server.ts) as an SVG image with a
 * text alternative that states what it shows, and its data as a table right below, open by a
 * plain <details> (no JavaScript needed). Colours keep 3:1 against white (WCAG 1.4.11).
 */
import type { ReactNode } from 'react'
import type { Chart, Mark, Tone } from './charts.server'

const FILL: Record<Tone, string> = {
  emergent: '#b91c1c',
  urgent: '#b45309',
  routine: '#0369a1',
  bar: '#0f766e',
  axis: '#cbd5e1',
  target: '#334155',
  area: '#ccfbf1',
}

export function ChartFigure({ id, title, summary, chart, children }: { id: string; title: string; summary: string; chart: Chart; children: ReactNode }) {
  return (
    <figure className="min-w-0 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby={`${id}-title`} data-testid={`chart-${id}`}>
      <h2 id={`${id}-title`} className="text-base font-semibold">
        {title}
      </h2>
      <p id={`${id}-summary`} className="mt-1 text-sm text-slate-600">
        {summary}
      </p>
      {chart.legend ? (
        <ul className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" aria-label="Legend">
          {chart.legend.map((l) => (
            <li key={l.tone} className="flex items-center gap-1.5">
              {/* An SVG swatch, not a style attribute: the page's CSP (style-src with a nonce) drops inline styles. */}
              <svg aria-hidden="true" viewBox="0 0 12 12" className="size-3">
                <rect width={12} height={12} rx={2} fill={FILL[l.tone]} />
              </svg>
              {l.label}
            </li>
          ))}
        </ul>
      ) : null}
      <svg
        viewBox={`0 0 ${chart.width} ${chart.height}`}
        className="mt-3 h-auto w-full"
        role="img"
        aria-labelledby={`${id}-title ${id}-summary`}
        preserveAspectRatio="xMinYMin meet"
      >
        {chart.marks.map((mark, i) => (
          <MarkShape key={i} mark={mark} />
        ))}
      </svg>
      <details className="mt-3 text-sm">
        <summary className="cursor-pointer font-medium text-sky-800">Show the data as a table</summary>
        <div className="mt-2">{children}</div>
      </details>
    </figure>
  )
}

function MarkShape({ mark }: { mark: Mark }) {
  switch (mark.kind) {
    case 'rect':
      return <rect x={mark.x} y={mark.y} width={mark.width} height={mark.height} fill={FILL[mark.tone]} rx={2} />
    case 'path':
      return <path d={mark.d} fill={mark.fill ? FILL[mark.tone] : 'none'} stroke={mark.fill ? 'none' : FILL[mark.tone]} strokeWidth={2.5} />
    case 'line':
      return <line x1={mark.x1} y1={mark.y1} x2={mark.x2} y2={mark.y2} stroke={FILL[mark.tone]} strokeDasharray={mark.dashed ? '4 3' : undefined} />
    case 'text':
      return (
        <text x={mark.x} y={mark.y} textAnchor={mark.anchor ?? 'start'} fontSize={13} fill={mark.muted ? '#475569' : '#1e293b'}>
          {mark.text}
        </text>
      )
  }
}
