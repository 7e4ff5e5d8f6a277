import { useMemo } from 'react';
import type { Status } from '../../../shared/contract';
import { count, formatBytes, formatDateTime, formatRelative, formatScore } from '../format';
import { useRecentScores, useSetPaused, useSnooze, useStatus } from '../queries';
import { fitRange } from '../timeRange';
import { useNow } from '../useNow';
import { Problem } from '../components/Problem';
import { ScoreChart } from '../components/ScoreChart';
import { LearningNotice } from '../components/LearningNotice';

const CHART_SPAN_MS = 6 * 3_600_000;

/** Said whenever capture is not recording: what is missing without it, what it costs, how to turn it on. */
function CaptureOff({ capture, monitoring }: { capture: Status['capture']; monitoring: boolean }) {
  return (
    <div className="capture-off">
      <p>
        Without capture Portent still records every listening port and connection with its process, but not how much traffic each carried, nor the names the
        machine looked up. Capture costs a small helper process and database space (flows and up to 150 packet headers a round; about 50 MB a day on a busy
        host, kept as long as the retention settings say).
      </p>
      {capture.remedy.length > 0 ? (
        <>
          <p>It needs permission to capture. To grant it:</p>
          <pre className="remedy">{capture.remedy.join('\n')}</pre>
        </>
      ) : !monitoring ? (
        <p>It starts with the monitor.</p>
      ) : capture.state === 'off' && /paused/.test(capture.message ?? '') ? (
        <p>It starts again when monitoring resumes.</p>
      ) : (
        <p>
          To turn it on, set <strong>capture.enabled</strong> in <a href="#/settings">Settings</a> (a monitor started with <code>--no-capture</code> needs a
          restart without it).
        </p>
      )}
    </div>
  );
}

/** The tray's colours: off by choice is paused; off for lack of permission needs the user, as an error does. */
function captureLook(capture: Status['capture']): string {
  if (capture.state === 'off') return capture.remedy.length > 0 ? 'state-error' : 'state-paused';
  return { starting: 'state-learning', on: 'state-normal', error: 'state-error' }[capture.state];
}

function CaptureState({ capture, monitoring }: { capture: Status['capture']; monitoring: boolean }) {
  const text = { starting: 'Starting', on: `Recording on ${capture.iface ?? 'the default interface'}`, off: 'Off', error: 'Failed' }[capture.state];
  return (
    <div className="card">
      <h3>Packet capture</h3>
      <p className={`state ${captureLook(capture)}`}>{text}</p>
      {capture.message && <p>{capture.message}</p>}
      {(capture.state === 'off' || capture.state === 'error') && <CaptureOff capture={capture} monitoring={monitoring} />}
    </div>
  );
}

function ModelState({ model }: { model: Status['model'] }) {
  return (
    <div className="card">
      <h3>Model</h3>
      {model.state === 'none' && <p className="state state-learning">Not trained yet</p>}
      {model.state === 'learning' && (
        <>
          <p className="state state-learning">Learning what is normal</p>
          <label className="progress">
            <progress max={1} value={model.progress} />
            {Math.round(model.progress * 100)}% ({model.roundsSeen} of {model.roundsNeeded} rounds)
          </label>
        </>
      )}
      {model.state === 'ready' && <p className="state state-normal">Ready: alerts are on</p>}
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

/** The score chart over the last six hours, or since the first round when that is sooner. */
function Scores({ status }: { status: Status }) {
  const scores = useRecentScores(CHART_SPAN_MS, 720);
  const now = useNow(60_000);
  const range = useMemo(() => fitRange(now, status.firstRoundAt ?? null, CHART_SPAN_MS), [now, status.firstRoundAt]);
  const heading = range.to - range.from >= CHART_SPAN_MS ? 'Round scores, last 6 hours' : `Round scores since ${formatDateTime(range.from)}`;
  const learning = status.model.state !== 'ready';
  const empty = learning
    ? 'Scores appear here after the first detection, which runs every hour: each round gets a score, how unusual it looked to the model. While Portent learns, nothing is compared with a threshold.'
    : 'No round was scored in this period. Rounds are scored by the hourly detection, and right after a round that changed what listens.';
  return (
    <>
      <h3>{heading}</h3>
      {scores.isError ? (
        <Problem error={scores.error} what="read the scores" />
      ) : (
        <ScoreChart points={scores.data ?? []} label="Round scores over time against the alert threshold" threshold={status.model.threshold ?? undefined} range={range} empty={empty} />
      )}
    </>
  );
}

export function Overview() {
  const status = useStatus();
  const now = useNow();
  if (status.isPending) return <p>Connecting to Portent…</p>;
  if (status.isError) return <Problem error={status.error} what="read Portent's status" />;
  const s = status.data;
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <LearningNotice status={s} />
      <div className="cards">
        <div className="card">
          <h3>Monitoring</h3>
          <p className={`state ${s.paused ? 'state-paused' : s.monitoring ? 'state-normal' : 'state-error'}`}>{s.paused ? 'Paused' : s.monitoring ? 'Running' : 'Stopped'}</p>
          <dl className="facts">
            <dt>Since</dt>
            <dd>{s.monitoringSince === null ? '–' : formatDateTime(s.monitoringSince)}</dd>
            <dt>Last round</dt>
            <dd>
              {s.lastRound === null
                ? s.monitoring
                  ? 'none yet: the first round runs within a minute'
                  : 'none yet: rounds start with the monitor'
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
        <CaptureState capture={s.capture} monitoring={s.monitoring} />
        <ModelState model={s.model} />
      </div>
      <Controls status={s} />
      <Scores status={s} />
    </section>
  );
}
