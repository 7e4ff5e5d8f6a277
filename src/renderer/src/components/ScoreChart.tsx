import { useMemo } from 'react';
import type { ScorePoint } from '../../../shared/contract';
import { LineChart, type ChartSeries } from './LineChart';

/** Round scores against the threshold in force when each was scored (a gap while learning). */
export function ScoreChart({ points, label, height }: { points: readonly ScorePoint[]; label: string; height?: number }) {
  const xs = useMemo(() => points.map((p) => p.at), [points]);
  const series = useMemo<ChartSeries[]>(
    () => [
      { label: 'Score', values: points.map((p) => p.score), color: 'accent' },
      { label: 'Threshold', values: points.map((p) => p.threshold), color: 'danger', dashed: true },
    ],
    [points],
  );
  if (points.length === 0) return <p className="muted">No rounds have been scored in this period yet.</p>;
  return <LineChart label={label} xs={xs} series={series} height={height} />;
}
