import { useEffect, useId, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import { minMaxDecimate } from '../downsample';
import { formatClock, formatDateTime } from '../format';
import { useThemeColors, type ThemeColors } from '../theme';
import { formatTick, niceTicks, timeTicks } from '../ticks';
import { useElementWidth } from '../useElementWidth';

export interface ChartSeries {
  label: string;
  values: readonly (number | null)[];
  color: keyof ThemeColors;
  dashed?: boolean;
  /** Draw as bars (traffic counts) rather than a line. */
  bars?: boolean;
  /** On its own scale, with its axis on the right (a quantity of another size). */
  rightAxis?: boolean;
}

/** A horizontal line across the whole plot at a value of the left scale (an alert threshold). */
export interface ReferenceLine {
  label: string;
  value: number;
  color: keyof ThemeColors;
}

interface Props {
  /** Accessible description of what the chart shows. */
  label: string;
  xs: readonly number[];
  series: readonly ChartSeries[];
  /** x values are epoch milliseconds (a time axis) or plain numbers (epochs). */
  time?: boolean;
  height?: number;
  /** The x range to show (the period asked for), rather than the span of the points. */
  xRange?: { from: number; to: number };
  lines?: readonly ReferenceLine[];
  /** What the legend says of a series with no value to show (a threshold while learning). */
  noValue?: string;
}

/** What the axes were given to draw, for the description read out and for tests. */
interface Drawn {
  x: string[];
  y: string[];
  /** Canvas pixel row of each reference line. */
  lines: { label: string; y: number }[];
}

// Stable defaults: a fresh array each render would redraw the chart on every render.
const NO_LINES: readonly ReferenceLine[] = [];

/** Keeps at most about two points per pixel, chosen by the first series' peaks and troughs. */
function fitToWidth(xs: readonly number[], series: readonly ChartSeries[], width: number): uPlot.AlignedData {
  const first = series[0];
  const limit = Math.max(50, Math.floor(width * 2));
  if (!first || xs.length <= limit) return [xs as number[], ...series.map((s) => s.values as (number | null)[])];
  const index = xs.map((_x, i) => i);
  const kept = minMaxDecimate(index, first.values.map((v) => v ?? 0), limit).xs;
  return [kept.map((i) => xs[i]!), ...series.map((s) => kept.map((i) => s.values[i] ?? null))];
}

function lastValue(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

function extent(series: readonly ChartSeries[], lines: readonly ReferenceLine[], right: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    if (Boolean(s.rightAxis) !== right) continue;
    for (const v of s.values) {
      if (v === null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // Bars grow from zero.
    if (s.bars) lo = Math.min(lo, 0);
  }
  if (!right) for (const l of lines) [lo, hi] = [Math.min(lo, l.value), Math.max(hi, l.value)];
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/**
 * A small uPlot chart, redrawn when its data, width or the colour scheme changes. Its axes are
 * chosen here (round values printed distinctly, clock times spaced so labels never touch), its
 * legend shows values (the one under the pointer, else the latest), and reference lines are
 * drawn across the plot.
 */
export function LineChart({ label, xs, series, time = true, height = 180, xRange, lines = NO_LINES, noValue = 'none' }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);
  const colors = useThemeColors();
  const [cursor, setCursor] = useState<number | null>(null);
  const [drawn, setDrawn] = useState<Drawn>({ x: [], y: [], lines: [] });
  const describedBy = useId();

  useEffect(() => {
    const el = box.current;
    if (!el || width < 50) return;
    const axis = { stroke: colors.muted, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
    const left = niceTicks(...extent(series, lines, false), Math.max(2, Math.floor(height / 40)));
    const right = niceTicks(...extent(series, lines, true), Math.max(2, Math.floor(height / 40)));
    const yAxis = (t: typeof left) => ({ ...axis, size: 60, splits: () => t.values, values: () => t.values.map((v) => formatTick(v, t.decimals)) });
    const plotWidth = Math.max(50, width - 80);
    const from = xRange?.from ?? xs[0] ?? 0;
    const to = xRange?.to ?? xs.at(-1) ?? 1;
    const xTicks = time ? timeTicks(from, to, plotWidth) : [];
    // Epochs are whole numbers: no ticks in between.
    const xAxis = time ? { ...axis, splits: () => xTicks.map((t) => t.at), values: () => xTicks.map((t) => t.label) } : { ...axis, incrs: [1, 2, 5, 10, 20, 50, 100] };
    const hasRight = series.some((s) => s.rightAxis);
    const drawLines = (u: uPlot) => {
      const ctx = u.ctx;
      const drawnLines: Drawn['lines'] = [];
      for (const line of lines) {
        const y = Math.round(u.valToPos(line.value, 'y', true)) + 0.5;
        ctx.save();
        ctx.strokeStyle = colors[line.color];
        ctx.lineWidth = 2 * uPlot.pxRatio;
        ctx.setLineDash([8 * uPlot.pxRatio, 5 * uPlot.pxRatio]);
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.restore();
        drawnLines.push({ label: line.label, y: Math.round(y) });
      }
      const next = { x: xTicks.map((t) => t.label), y: left.values.map((v) => formatTick(v, left.decimals)), lines: drawnLines };
      setDrawn((old) => (JSON.stringify(old) === JSON.stringify(next) ? old : next));
    };
    const chart = new uPlot(
      {
        width,
        height,
        ms: 1,
        scales: {
          x: { time, ...(xRange ? { range: (): uPlot.Range.MinMax => [xRange.from, xRange.to] } : {}) },
          y: { range: (): uPlot.Range.MinMax => [left.min, left.max] },
          ...(hasRight ? { right: { range: (): uPlot.Range.MinMax => [right.min, right.max] } } : {}),
        },
        // Room on the right for the last time label, which is centred on its tick.
        padding: [8, hasRight ? 8 : 32, 0, 0],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        axes: [xAxis, yAxis(left), ...(hasRight ? [{ ...yAxis(right), scale: 'right', side: 1 as const, grid: { show: false } }] : [])],
        series: [
          { label: time ? 'Time' : 'Epoch' },
          ...series.map((s) => ({
            label: s.label,
            scale: s.rightAxis ? 'right' : 'y',
            stroke: colors[s.color],
            width: s.bars ? 0 : 1.5,
            fill: s.bars ? colors[s.color] : undefined,
            dash: s.dashed ? [6, 4] : undefined,
            paths: s.bars ? uPlot.paths.bars?.({ size: [0.8, 20] }) : undefined,
            // A few values (a refit of one or two epochs) would draw no line: show them as points.
            points: { show: !s.bars && xs.length <= 30 },
            spanGaps: false,
          })),
        ],
        hooks: {
          draw: [drawLines],
          setCursor: [(u) => setCursor(u.cursor.idx ?? null)],
        },
      },
      fitToWidth(xs, series, width),
      el,
    );
    return () => chart.destroy();
  }, [xs, series, width, height, time, colors, xRange, lines]);

  const at = cursor !== null && cursor < xs.length ? cursor : null;
  const valueText = (v: number | null) => (v === null ? noValue : Number.isInteger(v) ? String(v) : Number(v.toPrecision(3)).toString());
  const atText = at === null ? 'latest' : time ? formatClock(xs[at]!) : `epoch ${xs[at]}`;
  return (
    <figure className="chart-figure">
      <div
        ref={box}
        className="chart"
        role="img"
        aria-label={label}
        aria-describedby={describedBy}
        data-x-ticks={drawn.x.join('|')}
        data-y-ticks={drawn.y.join('|')}
        data-lines={JSON.stringify(drawn.lines)}
      />
      <figcaption className="chart-legend" aria-live="off">
        <span className="muted">{atText}:</span>
        {series.map((s) => (
          <span key={s.label} className="legend-item">
            <span className={`swatch${s.dashed ? ' dashed' : ''}`} style={{ borderColor: colors[s.color], background: s.bars ? colors[s.color] : undefined }} />
            {s.label} <strong>{valueText(at === null ? lastValue(s.values) : (s.values[at] ?? null))}</strong>
          </span>
        ))}
        {lines.map((l) => (
          <span key={l.label} className="legend-item">
            <span className="swatch dashed" style={{ borderColor: colors[l.color] }} />
            {l.label} <strong>{valueText(l.value)}</strong>
          </span>
        ))}
      </figcaption>
      <p id={describedBy} className="visually-hidden">
        {time && xs.length > 0 ? `From ${formatDateTime(xRange?.from ?? xs[0]!)} to ${formatDateTime(xRange?.to ?? xs.at(-1)!)}. ` : ''}
        Vertical axis: {drawn.y.join(', ')}.
      </p>
    </figure>
  );
}
