import { useMemo, useState } from 'react';
import type { DetectNowResult, DetectionRun, ModelVersion } from '../../../shared/contract';
import { count, formatDateTime, formatDuration, formatScore } from '../format';
import { useDetectionRuns, useDetectNow, useModels, useStatus } from '../queries';
import { LineChart, type ChartSeries } from '../components/LineChart';
import { Problem } from '../components/Problem';
import { VirtualList } from '../components/VirtualList';

function resultText(r: DetectNowResult): string {
  if (!r.started) return `Detection did not start: ${r.reason}`;
  return `Done: scored ${count(r.roundsScored, 'round')} on ${r.backend}, ${count(r.incidents, 'incident')} found${r.learning ? ' (still learning, so nothing is alerted yet)' : ''}.`;
}

function DetectNow() {
  const detect = useDetectNow();
  return (
    <div className="actions">
      <button type="button" onClick={() => detect.mutate()} disabled={detect.isPending} aria-busy={detect.isPending}>
        {detect.isPending ? 'Detecting…' : 'Detect now'}
      </button>
      <span role="status" aria-live="polite">
        {detect.isPending && <progress aria-label="Detection in progress" />}
        {detect.data && resultText(detect.data)}
      </span>
      {detect.error && <Problem error={detect.error} what="run detection" />}
    </div>
  );
}

function RunRow({ run }: { run: DetectionRun }) {
  return (
    <div className={`run-row run-${run.status}`} tabIndex={0}>
      <span>{formatDateTime(run.startedAt)}</span>
      <span>{run.trigger === 'manual' ? 'by hand' : 'scheduled'}</span>
      <span>{run.endedAt === null ? 'running' : formatDuration(run.endedAt - run.startedAt)}</span>
      <span>{count(run.roundsScored, 'round')}</span>
      <span>{count(run.incidents, 'incident')}</span>
      <span>{run.status === 'failed' ? `failed: ${run.error ?? ''}` : run.status}</span>
    </div>
  );
}

function LossChart({ model }: { model: ModelVersion }) {
  const xs = useMemo(() => model.history.map((_h, i) => i + 1), [model]);
  const series = useMemo<ChartSeries[]>(
    () => [
      { label: 'Loss', values: model.history.map((h) => h.loss), color: 'accent' },
      // The held-out windows' summed reconstruction error: another size than the mean loss.
      { label: 'Held-out error (right)', values: model.history.map((h) => h.valLoss), color: 'danger', dashed: true, rightAxis: true },
    ],
    [model],
  );
  if (model.history.length === 0) return <p className="muted">This refit recorded no epochs.</p>;
  return <LineChart label={`Loss per epoch of model version ${model.version}`} xs={xs} series={series} time={false} height={160} />;
}

function Models() {
  const models = useModels();
  const [chosen, setChosen] = useState<number | null>(null);
  if (models.isPending) return <p>Loading models…</p>;
  if (models.isError) return <Problem error={models.error} what="list the model versions" />;
  if (models.data.length === 0) return <p className="muted">No model has been trained yet. The first detection (within the hour, or now with Detect now) trains one on the rounds recorded so far, and each refit appears here with its loss.</p>;
  const model = models.data.find((m) => m.version === chosen) ?? models.data[0]!;
  return (
    <>
      <label>
        Refit{' '}
        <select value={model.version} onChange={(e) => setChosen(Number(e.target.value))}>
          {models.data.map((m) => (
            <option key={m.version} value={m.version}>
              version {m.version}, {formatDateTime(m.createdAt)}
            </option>
          ))}
        </select>
      </label>
      <p>
        Trained on {model.roundsTrained} windows with {model.backend}; threshold {formatScore(model.threshold)}.
      </p>
      <LossChart model={model} />
    </>
  );
}

export function Detection() {
  const status = useStatus();
  const runs = useDetectionRuns();
  const model = status.data?.model;
  return (
    <section aria-labelledby="detection-title">
      <h2 id="detection-title">Detection runs and model</h2>
      {model && (
        <dl className="facts">
          <dt>Model</dt>
          <dd>{model.state === 'ready' ? 'ready' : model.state === 'learning' ? `learning (${Math.round(model.progress * 100)}%)` : 'not trained yet'}</dd>
          <dt>Threshold</dt>
          <dd>{formatScore(model.threshold)}</dd>
          <dt>Backend</dt>
          <dd>{model.backend ?? '–'}</dd>
        </dl>
      )}
      <DetectNow />
      <h3>Runs</h3>
      <div className="run-row run-head" aria-hidden="true">
        <span>Started</span>
        <span>Trigger</span>
        <span>Took</span>
        <span>Scored</span>
        <span>Found</span>
        <span>Outcome</span>
      </div>
      {runs.isPending && <p>Loading runs…</p>}
      {runs.isError && <Problem error={runs.error} what="list the detection runs" />}
      {runs.data && (runs.data.length === 0 ? <p className="muted">No detection has run yet. Detection runs every hour, right after a round that changed what listens, and when you press Detect now; each run appears here with what it scored and found.</p> : <VirtualList label="Detection runs, newest first" items={runs.data} rowHeight={34} height="40vh" keyOf={(r) => r.id} renderRow={(run) => <RunRow run={run} />} />)}
      <h3>Refits</h3>
      <Models />
    </section>
  );
}
