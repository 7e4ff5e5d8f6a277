import type { Db } from '../store/database';
import type { MethodArgs, ScorePoint } from '../../../shared/contract';

export type ScoresArgs = MethodArgs<'listScores'>[0];

export const SCORES_SQL = `SELECT r.id AS roundId, r.started_at AS at, s.score, s.threshold, s.anomalous
  FROM rounds r JOIN round_scores s ON s.round_id = r.id
  WHERE r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, r.id`;

/**
 * At most `max` points of `points` (oldest first): the highest score of each of `max` equal
 * time buckets, so the shape of the curve and its peaks survive.
 */
function peaksPerBucket(points: readonly ScorePoint[], max: number, from: number, to: number): ScorePoint[] {
  const best = new Map<number, ScorePoint>();
  for (const p of points) {
    const b = Math.min(max - 1, Math.floor(((p.at - from) * max) / (to - from)));
    const kept = best.get(b);
    if (!kept || p.score > kept.score) best.set(b, p);
  }
  return [...best.values()];
}

/**
 * Scores of the rounds started in [from, to), oldest first, at most `maxPoints` of them. When
 * there are more, every anomalous round is kept (so an alert never vanishes from the chart) and
 * the rest of the budget goes to the highest score per time bucket.
 */
export function listScores(db: Db, args: ScoresArgs): ScorePoint[] {
  const { from, to, maxPoints } = args;
  const rows = db.prepare<[number, number], Omit<ScorePoint, 'anomalous'> & { anomalous: number }>(SCORES_SQL).all(from, to);
  const points = rows.map((r) => ({ ...r, anomalous: r.anomalous === 1 }));
  if (points.length <= maxPoints) return points;
  const anomalous = points.filter((p) => p.anomalous);
  if (anomalous.length >= maxPoints) return peaksPerBucket(anomalous, maxPoints, from, to).sort(byTime);
  const chosen = new Set<ScorePoint>(anomalous);
  for (const p of peaksPerBucket(points, maxPoints - anomalous.length, from, to)) chosen.add(p);
  return [...chosen].sort(byTime);
}

function byTime(a: ScorePoint, b: ScorePoint): number {
  return a.at - b.at || a.roundId - b.roundId;
}
