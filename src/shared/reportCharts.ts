/**
 * The geometry of the daily report's bar charts, shared by the HTML file (SVG text) and the
 * window's Report view (SVG elements), so both draw the same bars. Pure.
 */

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
}

/** Vertical bars for `values` in a width × height box, the tallest filling it; a zero draws no bar. */
export function columnBars(values: readonly number[], width: number, height: number, gap = 2): Bar[] {
  const max = Math.max(0, ...values);
  const step = values.length === 0 ? 0 : width / values.length;
  return values.map((value, i) => {
    const h = max === 0 ? 0 : Math.max(value > 0 ? 1 : 0, (value / max) * height);
    return { x: i * step + gap / 2, y: height - h, width: Math.max(1, step - gap), height: h, value };
  });
}

/** Horizontal bars, one a row of `rowHeight`, the longest filling `width`. */
export function rowBars(values: readonly number[], width: number, rowHeight: number, gap = 4): Bar[] {
  const max = Math.max(0, ...values);
  return values.map((value, i) => ({
    x: 0,
    y: i * rowHeight + gap / 2,
    width: max === 0 ? 0 : Math.max(value > 0 ? 1 : 0, (value / max) * width),
    height: rowHeight - gap,
    value,
  }));
}
