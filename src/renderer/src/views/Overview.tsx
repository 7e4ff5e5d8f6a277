import type { Status } from '../../../shared/contract';
import { count, formatBytes, formatDateTime, formatRelative, formatScore } from '../format';
import { useRecentScores, useSetPaused, useSnooze, useStatus } from '../queries';
import { useNow } from '../useNow';
import { Problem } from '../components/Problem';
import { ScoreChart } from '../components/ScoreChart';

const CHART_SPAN_MS = 6 * 3_600_000;

function CaptureState({ capture }: { capture: Status['capture'] }) {
  const text = { starting: 'Starting', on: `Recording on ${capture.iface ?? 'the default interface'}`, off: 'Off', error: 'Failed' }[capture.state];
  return (
    <div className="card">
      <h3>Packet capture</h3>
      <p className={`state state-${capture.state}`}>{text}</p>
      {capture.message && <p>{capture.message}</p>}
      {capture.remedy.length > 0 && (
        <>
          <p>To turn it on:</p>
          <pre className="remedy">{capture.remedy.join('\n')}</pre>
        </>
      )}
    </div>
  );
}

function ModelState({ model }: { model: Status['model'] }) {
  return (
    <div className="card">
      <h3>Model</h3>
      {model.state === 'none' && <p className="state">Not trained yet</p>}
      {model.state === 'learning' && (
        <>
          <p className="state">Learning what is normal</p>
          <label className="progress">
            <progress max={1} value={model.progress} />
            {Math.round(model.progress * 100)}% ({model.roundsSeen} of {model.roundsNeeded} rounds)
          </label>
        </>
      )}
      {model.state === 'ready' && <p className="state state-on">Ready: alerts are on</p>}
      {model.training && <p>Training now…</p>}
      <dl className="facts">
        <dt>Backend</dt>
        <dd>{model.backend ?? '–'}</dd>
        <dt>Threshold</dt>
        <dd>{formatScore(model.threshold)}</dd>
        <dt>Version</dt>
        <dd>{model.version ?? '–'}</dd>
      </dl>
    </div>
  );
}

function Controls({ status }: { status: Status }) {
  const snooze = useSnooze();
  const pause = useSetPaused();
  const now = useNow();
  const snoozed = status.snoozedUntil !== null && status.snoozedUntil > now;
  return (
    <div className="actions">
      <button type="button" disabled={pause.isPending} onClick={() => pause.mutate(!status.paused)}>
        {status.paused ? 'Resume monitoring' : 'Pause monitoring'}
      </button>
      <button type="button" disabled={snooze.isPending} onClick={() => snooze.mutate(snoozed ? null : Date.now() + 3_600_000)}>
        {snoozed ? 'End snooze' : 'Snooze alerts for 1 hour'}
      </button>
      {snoozed && <span className="muted">Alerts are snoozed until {formatDateTime(status.snoozedUntil!)}.</span>}
      {pause.error && <Problem error={pause.error} what="change monitoring" />}
      {snooze.error && <Problem error={snooze.error} what="snooze alerts" />}
    </div>
  );
}

export function Overview() {
  const status = useStatus();
  const scores = useRecentScores(CHART_SPAN_MS, 720);
  const now = useNow();
  if (status.isPending) return <p>Connecting to Portent…</p>;
  if (status.isError) return <Problem error={status.error} what="read Portent's status" />;
  const s = status.data;
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <div className="cards">
        <div className="card">
          <h3>Monitoring</h3>
          <p className={`state ${s.monitoring && !s.paused ? 'state-on' : 'state-off'}`}>{s.paused ? 'Paused' : s.monitoring ? 'Running' : 'Stopped'}</p>
          <dl className="facts">
            <dt>Since</dt>
            <dd>{s.monitoringSince === null ? '–' : formatDateTime(s.monitoringSince)}</dd>
            <dt>Last round</dt>
            <dd>
              {s.lastRound === null
                ? 'none yet'
                : `${formatRelative(s.lastRound.startedAt, now)}, ${s.lastRound.ports} ports${s.lastRound.status === 'failed' ? ` (failed: ${s.lastRound.error ?? 'unknown error'})` : ''}`}
            </dd>
            <dt>Waiting to be scored</dt>
            <dd>{count(s.unscoredRounds, 'round')}</dd>
            <dt>Database</dt>
            <dd title={s.database}>{formatBytes(s.databaseBytes)}</dd>
          </dl>
        </div>
        <div className="card">
          <h3>Incidents</h3>
          <dl className="facts big">
            <dt>Today</dt>
            <dd>{s.incidents.today}</dd>
            <dt>This week</dt>
            <dd>{s.incidents.week}</dd>
            <dt>Unseen</dt>
            <dd>{s.incidents.unseen > 0 ? <a href="#/incidents">{s.incidents.unseen}</a> : 0}</dd>
          </dl>
        </div>
        <CaptureState capture={s.capture} />
        <ModelState model={s.model} />
      </div>
      <Controls status={s} />
      <h3>Round scores, last 6 hours</h3>
      {scores.isError ? <Problem error={scores.error} what="read the scores" /> : <ScoreChart points={scores.data ?? []} label="Round scores of the last 6 hours against the alert threshold" />}
    </section>
  );
}
