import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { minMaxDecimate } from '../downsample';
import { useThemeColors, type ThemeColors } from '../theme';
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

interface Props {
  /** Accessible description of what the chart shows. */
  label: string;
  xs: readonly number[];
  series: readonly ChartSeries[];
  /** x values are epoch milliseconds (a time axis) or plain numbers (epochs). */
  time?: boolean;
  height?: number;
}

/** Keeps at most about two points per pixel, chosen by the first series' peaks and troughs. */
function fitToWidth(xs: readonly number[], series: readonly ChartSeries[], width: number): uPlot.AlignedData {
  const first = series[0];
  const limit = Math.max(50, Math.floor(width * 2));
  if (!first || xs.length <= limit) return [xs as number[], ...series.map((s) => s.values as (number | null)[])];
  const index = xs.map((_x, i) => i);
  const kept = minMaxDecimate(index, first.values.map((v) => v ?? 0), limit).xs;
  return [kept.map((i) => xs[i]!), ...series.map((s) => kept.map((i) => s.values[i] ?? null))];
}

/** A small uPlot chart, redrawn when its data, width or the colour scheme changes. */
export function LineChart({ label, xs, series, time = true, height = 180 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);
  const colors = useThemeColors();

  useEffect(() => {
    const el = box.current;
    if (!el || width < 50) return;
    const axis = { stroke: colors.muted, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
    // Small values (a loss of 0.009) keep two significant digits instead of rounding to 0.
    const values = (_u: uPlot, splits: number[]) =>
      splits.map((v) => (v === 0 ? '0' : Math.abs(v) < 0.01 ? v.toExponential(1) : Math.abs(v) < 1 ? v.toPrecision(2) : String(Number(v.toFixed(2)))));
    const yAxis = { ...axis, size: 60, values };
    // Epochs are whole numbers: no ticks in between.
    const xAxis = time ? axis : { ...axis, incrs: [1, 2, 5, 10, 20, 50, 100] };
    const chart = new uPlot(
      {
        width,
        height,
        ms: 1,
        scales: { x: { time } },
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        axes: [xAxis, yAxis, ...(series.some((s) => s.rightAxis) ? [{ ...yAxis, scale: 'right', side: 1 as const, grid: { show: false } }] : [])],
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
      },
      fitToWidth(xs, series, width),
      el,
    );
    return () => chart.destroy();
  }, [xs, series, width, height, time, colors]);

  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
