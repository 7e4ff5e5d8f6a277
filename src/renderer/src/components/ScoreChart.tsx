import { useMemo, type ReactNode } from 'react';
import type { ScorePoint } from '../../../shared/contract';
import { LineChart, type ChartSeries, type ReferenceLine } from './LineChart';

interface Props {
  points: readonly ScorePoint[];
  label: string;
  height?: number;
  /** The threshold to draw across the chart: the one in force now; by default the latest scored against. */
  threshold?: number | null;
  /** The period shown, so the time axis reads as that period rather than the span of the points. */
  range?: { from: number; to: number };
  /** Said in place of the chart when nothing was scored. */
  empty?: ReactNode;
}

/** Round scores over time, with the alert threshold drawn across them (absent while learning). */
export function ScoreChart({ points, label, height, threshold, range, empty }: Props) {
  const xs = useMemo(() => points.map((p) => p.at), [points]);
  const series = useMemo<ChartSeries[]>(() => [{ label: 'Score', values: points.map((p) => p.score), color: 'accent' }], [points]);
  const line = threshold === undefined ? ([...points].reverse().find((p) => p.threshold !== null)?.threshold ?? null) : threshold;
  const lines = useMemo<ReferenceLine[]>(() => (line === null ? [] : [{ label: 'Threshold', value: line, color: 'danger' }]), [line]);
  if (points.length === 0) return <p className="muted">{empty ?? 'No rounds have been scored in this period yet.'}</p>;
  return (
    <>
      <LineChart label={label} xs={xs} series={series} height={height} xRange={range} lines={lines} />
      {line === null && <p className="muted">No threshold yet: Portent draws one, and alerts above it, once it has learned what is normal.</p>}
    </>
  );
}
