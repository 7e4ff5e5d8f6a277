import { SettingsStore } from '../../engine/store/settingsStore';
import { readMonitorState } from '../../engine/monitorFile';
import { readStatus } from '../../engine/status';
import { monitorPlan } from '../../engine/monitorPlan';
import type { Status } from '../../../shared/contract';
import type { Command } from '../command';
import { openForReading, resolveDbPath } from '../dbOption';
import { readWebAddress } from '../webAddress';
import { megabytes } from '../format';
import { portentLine } from '../../engine/invocation';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function describeModel(m: Status['model']): string {
  if (m.state === 'none') return 'not trained yet';
  const where = `v${m.version} on ${m.backend}`;
  if (m.state === 'learning') return `learning, ${Math.floor(m.progress * 100)}% (${m.roundsSeen} of ${m.roundsNeeded} rounds), ${where}`;
  return `ready, threshold ${m.threshold?.toFixed(2)}, ${where}${m.training ? ', training now' : ''}`;
}

/** The readable form of a status: one fact a line. */
export function formatStatus(s: Status, webPage: string | null = null): string {
  const monitoring = s.monitoring ? `${s.paused ? 'paused' : 'running'} since ${iso(s.monitoringSince)}` : `not running (start it with \`${portentLine('run')}\`)`;
  const last = s.lastRound ? `${iso(s.lastRound.startedAt)}, ${s.lastRound.status === 'failed' ? `failed: ${s.lastRound.error ?? 'unknown error'}` : `${s.lastRound.ports} sockets`}` : 'none yet';
  const capture = s.capture.state === 'on' ? `on ${s.capture.iface ?? ''}`.trim() : (s.capture.message ?? s.capture.state);
  const restarts = s.capture.restarts ?? 0;
  const recording = s.recording && s.recording.state !== 'recording' ? s.recording : null;
  const lines = [
    `Portent ${s.version}`,
    `Monitoring:      ${monitoring}`,
    ...(recording ? [`Not recording:   ${recording.message ?? recording.state} (since ${iso(recording.since)}, ${recording.roundsSkipped} rounds skipped)`] : []),
    `Last round:      ${last}`,
    `Capture:         ${capture}`,
    ...(restarts > 0 ? [`                 restarted ${restarts} time${restarts === 1 ? '' : 's'}${s.capture.lastFailure ? `; last died ${iso(s.capture.lastFailure.at)}: ${s.capture.lastFailure.message}` : ''}`] : []),
    ...s.capture.remedy.map((r) => `                 ${r}`),
    `Model:           ${describeModel(s.model)}`,
    `Detection:       ${s.detection.running ? 'running now' : `last ${iso(s.detection.lastRunAt)}${s.detection.lastRunStatus ? ` (${s.detection.lastRunStatus})` : ''}`}`,
    `Unscored rounds: ${s.unscoredRounds}`,
    `Incidents:       ${s.incidents.today} today, ${s.incidents.week} this week, ${s.incidents.unseen} unseen`,
    ...(s.snoozedUntil ? [`Alerts snoozed:  until ${iso(s.snoozedUntil)}`] : []),
    `Database:        ${s.database} (${megabytes(s.databaseBytes)})`,
    ...(webPage ? [`Web page:        ${webPage}`] : []),
  ];
  return lines.join('\n') + '\n';
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show whether the monitor runs, the last round, capture, model and incidents',
  usage: '[--json] [--db PATH]',
  options: { json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const dbPath = resolveDbPath(ctx);
    const db = openForReading(dbPath);
    try {
      const monitor = readMonitorState(dbPath);
      const plan = monitorPlan(new SettingsStore(db).all(), { roundSeconds: monitor?.roundSeconds ?? 60 });
      const status = readStatus({ db, dbPath, monitor, roundsNeeded: plan.detector.minTrainingRounds });
      // Only while a monitor runs: a file left by one that was killed points nowhere.
      const webPage = monitor ? readWebAddress(dbPath) : null;
      ctx.stdout.write(ctx.values.json ? JSON.stringify({ ...status, webPage }, null, 2) + '\n' : formatStatus(status, webPage));
      return 0;
    } finally {
      db.close();
    }
  },
};
