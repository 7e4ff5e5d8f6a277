import { useEffect, useRef, type ReactNode } from 'react';
import type { IncidentDetail as Detail } from '../../../shared/contract';
import { trafficScope } from '../../../shared/incidentText';
import { featureAmount } from '../../../shared/trafficScale';
import { count, directionLabel, formatBytes, formatDateTime, formatDuration, formatPercent, portLabel, scoreComparison } from '../format';
import { DEFAULT_RANGE, hrefOf } from '../router';
import { useIncident, useSetIncidentStatus, useSnooze } from '../queries';
import { Problem } from '../components/Problem';
import { ScoreChart } from '../components/ScoreChart';
import { IncidentActions } from '../components/IncidentActions';
import { endpointAddress, featureLabel, novelty, periodLabel, trafficKindLabel } from '../trafficLabels';

/** The incident's time and ten minutes either side: what its processes talked to then. */
function aroundIncident(incident: { startedAt: number; endedAt: number }): { from: number; to: number } {
  return { from: incident.startedAt - 10 * 60_000, to: incident.endedAt + 10 * 60_000 };
}

function Ports({ incident }: { incident: Detail }) {
  return (
    <table>
      <caption>Contributing ports</caption>
      <thead>
        <tr>
          <th scope="col">Port</th>
          <th scope="col">What changed</th>
          <th scope="col">Process</th>
          <th scope="col">First seen</th>
          <th scope="col">Share of the error</th>
          <th scope="col">Expected occupied</th>
        </tr>
      </thead>
      <tbody>
        {incident.ports.map((p) => (
          <tr key={`${p.proto}/${p.port}`}>
            <td>
              <a href={hrefOf({ view: 'ports', range: DEFAULT_RANGE, port: { proto: p.proto, port: p.port } })}>{portLabel(p.proto, p.port)}</a>
            </td>
            <td>{directionLabel(p.direction)}</td>
            <td>
              {p.process ?? 'unknown'}
              {p.pid !== null && <span className="muted"> (pid {p.pid})</span>}
              {p.exe && <div className="muted mono">{p.exe}</div>}
              {p.direction === 'new-owner' && <div className="muted">usually {p.usualExe ?? p.usualProcess ?? 'another program'}</div>}
              {p.process !== null && (
                <div>
                  <a href={hrefOf({ view: 'connections', range: aroundIncident(incident), process: p.process, host: null })}>Its connections at the time</a>
                </div>
              )}
            </td>
            <td>{p.firstSeenAt === null ? 'never before' : formatDateTime(p.firstSeenAt)}</td>
            <td>
              <span className="share" style={{ width: `${(p.share * 5).toFixed(2)}rem` }} aria-hidden="true" />
              {formatPercent(p.share)}
            </td>
            <td>{formatPercent(p.expected)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The remote ends a traffic incident names, most telling first. */
function RemoteEnds({ incident }: { incident: Detail }) {
  return (
    <section aria-labelledby="remote-ends-title">
      <h5 id="remote-ends-title">Who it talked to</h5>
      {incident.endpoints.length === 0 ? (
        <p className="muted">The traffic model named no remote end for this incident.</p>
      ) : (
        <table aria-label="Remote ends" className="remote-ends">
          <thead>
            <tr>
              <th scope="col">Remote end</th>
              <th scope="col">Direction</th>
              <th scope="col">New?</th>
              <th scope="col">Connections</th>
              <th scope="col">Sent</th>
              <th scope="col">Received</th>
              <th scope="col">Beat</th>
              <th scope="col">Held since</th>
            </tr>
          </thead>
          <tbody>
            {incident.endpoints.map((e, i) => (
              <tr key={i} data-endpoint={`${e.address}:${e.port}`}>
                <td>
                  {e.name && <div>{e.name}</div>}
                  <div className={e.name ? 'muted mono' : 'mono'}>
                    {endpointAddress(e)} {e.proto}
                  </div>
                </td>
                <td>{e.direction === 'out' ? 'outgoing' : 'incoming'}</td>
                <td>
                  {novelty(e)}
                  {e.firstSeenAt !== null && !e.newForProcess && <div className="muted">since {formatDateTime(e.firstSeenAt)}</div>}
                </td>
                <td>{e.opened}</td>
                <td>{formatBytes(e.bytesOut)}</td>
                <td>{formatBytes(e.bytesIn)}</td>
                <td>{e.periodMs ? periodLabel(e.periodMs) : '–'}</td>
                <td>{e.heldSince === null ? '–' : formatDateTime(e.heldSince)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The features that drove a traffic incident, by their share of the explanation. */
function StandOut({ incident }: { incident: Detail }) {
  return (
    <section aria-labelledby="stand-out-title">
      <h5 id="stand-out-title">What made it stand out</h5>
      {incident.features.length === 0 ? (
        <p className="muted">No feature carried a notable share of the explanation.</p>
      ) : (
        <>
          <table aria-label="Features by their share of the explanation">
            <thead>
              <tr>
                <th scope="col">What the model looked at</th>
                <th scope="col">Share of the explanation</th>
                <th scope="col">Seen</th>
                <th scope="col">Expected</th>
              </tr>
            </thead>
            <tbody>
              {incident.features.map((f) => (
                <tr key={f.feature} data-feature={f.feature}>
                  <td title={f.feature}>{featureLabel(f.feature)}</td>
                  <td>
                    <span className="share" style={{ width: `${(f.share * 5).toFixed(2)}rem` }} aria-hidden="true" />
                    {formatPercent(f.share)}
                  </td>
                  <td className="mono">{featureAmount(f.feature, f.value)}</td>
                  <td className="mono">{featureAmount(f.feature, f.expected)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">Seen: what the window held. Expected: what the model took for normal in a window like it. A regular beat and other scores run from 0 to 1.</p>
        </>
      )}
    </section>
  );
}

/**
 * The chart of the model the incident's score is from: a traffic incident's program's windows
 * against the traffic model's threshold, or the rounds around a port (or 'both') incident.
 */
function IncidentScores({ incident }: { incident: Detail }) {
  const traffic = incident.kind === 'traffic';
  const title = !traffic
    ? "Score over the incident's window"
    : incident.program
      ? `Score of ${incident.program.name ?? 'its program'}'s traffic, window by window`
      : 'Score of the traffic no program owns, window by window';
  const label = traffic
    ? "Scores of the program's traffic windows (ten rounds each) in and around the incident against the traffic model's threshold"
    : "Scores of the incident's rounds and those around it against the threshold";
  return (
    <>
      <h5>{title}</h5>
      <ScoreChart points={incident.scores} label={label} height={160} />
    </>
  );
}

function Traffic({ incident }: { incident: Detail }) {
  const scope = trafficScope(incident);
  return (
    <>
      <h5>{scope.flows}</h5>
      {incident.flows.length === 0 ? (
        <p className="muted">{scope.noFlows}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Direction</th>
              <th scope="col">Local</th>
              <th scope="col">Remote</th>
              <th scope="col">Process</th>
              <th scope="col">Packets</th>
              <th scope="col">Bytes</th>
            </tr>
          </thead>
          <tbody>
            {incident.flows.map((f, i) => (
              <tr key={i}>
                <td>{f.direction}</td>
                <td className="mono">
                  {f.localAddr ?? '?'}:{f.localPort ?? '?'} {f.proto}
                </td>
                <td className="mono">
                  {f.remoteAddr ?? '?'}:{f.remotePort ?? '?'}
                </td>
                <td>{f.process ?? 'unknown'}</td>
                <td>{f.packets}</td>
                <td>{formatBytes(f.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h5>{scope.dns}</h5>
      {incident.dns.length === 0 ? <p className="muted">None recorded.</p> : <ul className="dns">{incident.dns.map((name) => <li key={name} className="mono">{name}</li>)}</ul>}
    </>
  );
}

function Actions({ incident }: { incident: Detail }) {
  const setStatus = useSetIncidentStatus();
  const snooze = useSnooze();
  const busy = setStatus.isPending || snooze.isPending;
  return (
    <div className="actions">
      <button type="button" disabled={busy || incident.status === 'expected'} onClick={() => setStatus.mutate({ id: incident.id, status: 'expected' })}>
        Mark as expected
      </button>
      <button type="button" disabled={busy} onClick={() => snooze.mutate(Date.now() + 3_600_000)}>
        Snooze alerts for 1 hour
      </button>
      <button type="button" disabled={busy || incident.status === 'dismissed'} onClick={() => setStatus.mutate({ id: incident.id, status: 'dismissed' })}>
        Dismiss
      </button>
      {snooze.isSuccess && <span role="status">Alerts snoozed for an hour.</span>}
      {setStatus.error && <Problem error={setStatus.error} what="change the incident" />}
      {snooze.error && <Problem error={snooze.error} what="snooze alerts" />}
    </div>
  );
}

/** How an incident's status looks: the tray's colours (new and seen are the incident's, expected is normal). */
const STATUS_LOOK: Record<Detail['status'], { state: string; label: string }> = {
  new: { state: 'incident', label: 'new' },
  seen: { state: 'incident', label: 'seen' },
  expected: { state: 'normal', label: 'expected' },
  dismissed: { state: 'paused', label: 'dismissed' },
};

function aboutLabel(incident: Detail): string {
  if (incident.kind === 'ports') return 'listening ports';
  if (incident.kind === 'both') return `listening ports and traffic: ${trafficKindLabel(incident.trafficKind)}`;
  return `traffic: ${trafficKindLabel(incident.trafficKind)}`;
}

/** A chapter of the incident's story, titled for the question it answers. */
function Chapter({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="chapter" aria-labelledby={id}>
      <h4 id={id}>{title}</h4>
      {children}
    </section>
  );
}

/**
 * One incident, told in order: what happened, which process, compared with what is normal, what
 * you can do, then the traffic at the time. Escape or the close button returns to the list.
 */
export function IncidentDetail({ id }: { id: number }) {
  const incident = useIncident(id);
  const setStatus = useSetIncidentStatus();
  const heading = useRef<HTMLHeadingElement>(null);
  const { mutate } = setStatus;
  const status = incident.data?.status;

  // Opening a new incident is seeing it.
  useEffect(() => {
    if (status === 'new') mutate({ id, status: 'seen' });
  }, [id, status, mutate]);

  useEffect(() => {
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') window.location.hash = hrefOf({ view: 'incidents', id: null });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [id]);

  const data = incident.data;
  const look = data ? STATUS_LOOK[data.status] : null;
  return (
    <article className="detail incident-detail" aria-labelledby="incident-title">
      <div className="detail-head">
        <h3 id="incident-title" ref={heading} tabIndex={-1}>
          Incident {id}
        </h3>
        {look && <span className={`pill state-fill-${look.state}`}>{look.label}</span>}
        <a className="close" href={hrefOf({ view: 'incidents', id: null })} aria-label="Close the incident (Escape)">
          Close
        </a>
      </div>
      {incident.isPending && <p>Loading…</p>}
      {incident.isError && <Problem error={incident.error} what={`open incident ${id}`} />}
      {data && (
        <>
          <p className="sentence">{data.sentence}</p>
          <Chapter id="story-what" title="What happened">
            <dl className="facts">
              <dt>About</dt>
              <dd>{aboutLabel(data)}</dd>
              {data.kind !== 'ports' && (
                <>
                  <dt>Program</dt>
                  <dd>
                    {data.program === null ? (
                      'none (traffic no program on this machine owns)'
                    ) : (
                      <>
                        {data.program.name ?? 'unknown'}
                        {data.program.user && <span className="muted"> (user {data.program.user})</span>}
                        {data.program.exe && <div className="muted mono">{data.program.exe}</div>}
                      </>
                    )}
                  </dd>
                </>
              )}
              <dt>Since</dt>
              <dd>
                {formatDateTime(data.startedAt)}
                {data.episodes.length > 1
                  ? `, for ${formatDuration(data.episodes[0]!.endedAt - data.episodes[0]!.startedAt)}`
                  : data.rounds > 1
                    ? `, for ${formatDuration(data.endedAt - data.startedAt)} (${data.rounds} rounds)`
                    : ', in a single round'}
              </dd>
              {data.episodes.length > 1 && (
                <>
                  <dt>Came back</dt>
                  <dd>
                    {count(data.episodes.length - 1, 'time')} after a pause, the same cause, not told again ({data.rounds} rounds in all):
                    <ul className="episodes" aria-label="When it came back">
                      {data.episodes.slice(1).map((e) => (
                        <li key={e.startedAt}>
                          {formatDateTime(e.startedAt)}, for {formatDuration(e.endedAt - e.startedAt)}
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
              <dt>Status</dt>
              <dd>{data.status}</dd>
            </dl>
          </Chapter>
          <Chapter id="story-who" title={data.kind === 'traffic' ? 'Which program, and its remote ends' : 'Which ports and processes'}>
            {data.kind !== 'traffic' && <Ports incident={data} />}
            {data.kind !== 'ports' && <RemoteEnds incident={data} />}
          </Chapter>
          <Chapter id="story-normal" title="Compared with what is normal">
            <p className="compared">{scoreComparison(data.peakScore, data.threshold, data.kind === 'traffic' ? 'window' : 'round')}</p>
            {data.kind !== 'ports' && <StandOut incident={data} />}
            <IncidentScores incident={data} />
          </Chapter>
          <IncidentActions incident={data}>
            <Actions incident={data} />
          </IncidentActions>
          <Chapter id="story-traffic" title="Traffic at the time">
            <Traffic incident={data} />
          </Chapter>
        </>
      )}
    </article>
  );
}
