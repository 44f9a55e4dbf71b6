import type { ReactNode } from "react";

export interface DataTable {
  /** Column headings; the first column heads each row. */
  columns: string[];
  rows: { key: string; cells: ReactNode[] }[];
}

/**
 * A chart with its text alternatives: a heading, a sentence that says what the chart shows in figures (read
 * by screen readers and by anyone), and the chart's data as a table behind "Show the data". The drawing
 * itself is hidden from assistive technology: the summary and the table say the same thing in words.
 */
export function ChartFigure({
  title,
  summary,
  table,
  children,
  testId,
}: {
  title: string;
  summary: ReactNode;
  table: DataTable;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <figure className="min-w-0" data-testid={testId}>
      <figcaption>
        <h3 className="text-sm font-semibold text-slate-900">{title}</h3>
        <p className="mt-0.5 text-sm text-slate-700">{summary}</p>
      </figcaption>
      <div className="mt-3 h-56 w-full min-w-0 sm:h-64" aria-hidden="true">
        {children}
      </div>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer text-indigo-700 hover:underline">Show the data</summary>
        {/* Focusable so that a keyboard can scroll it (a long table scrolls inside its box). */}
        <div className="mt-2 max-h-72 overflow-auto rounded border border-slate-200" tabIndex={0} role="region" aria-label={`${title}: data`}>
          <table className="w-full text-left text-xs">
            <caption className="sr-only">{title}</caption>
            <thead className="sticky top-0 bg-slate-50 text-slate-700">
              <tr>
                {table.columns.map((c) => (
                  <th key={c} scope="col" className="px-2 py-1 font-medium whitespace-nowrap">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 text-slate-800">
              {table.rows.map((row) => (
                <tr key={row.key}>
                  {row.cells.map((cell, i) =>
                    i === 0 ? (
                      <th key={i} scope="row" className="px-2 py-1 font-normal whitespace-nowrap">
                        {cell}
                      </th>
                    ) : (
                      <td key={i} className="px-2 py-1 tabular-nums whitespace-nowrap">
                        {cell}
                      </td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
