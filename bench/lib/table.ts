/** Plain-text and Markdown tables for the benchmark's output. */

export type Cell = string | number;

function text(cell: Cell): string {
  return typeof cell === 'number' ? String(cell) : cell;
}

/** A fixed-width text table; numbers and ratios right-aligned. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => text(row[column] ?? '').length)),
  );
  const align = (cell: Cell, column: number): string => {
    const value = text(cell);
    return typeof cell === 'number' || /^[\d.,-]+( |×|$)/.test(value)
      ? value.padStart(widths[column])
      : value.padEnd(widths[column]);
  };
  const line = (cells: readonly Cell[]): string =>
    cells.map((cell, column) => align(cell, column)).join('  ');
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table as GitHub Markdown (for docs/performance.md). */
export function renderMarkdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]): string =>
    `| ${cells.map((cell) => text(cell).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
