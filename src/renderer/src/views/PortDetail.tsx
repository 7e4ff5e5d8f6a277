import { useEffect, useMemo, useRef } from 'react';
import type { PortHistory, Status } from '../../../shared/contract';
import { formatBytes, formatDateTime, formatDuration, portLabel } from '../format';
import { hrefOf, type PortKey } from '../router';
import type { Interval } from '../timeRange';
import { usePortHistory } from '../queries';
import { tickAlign, timeTicks } from '../ticks';
import { gapReason } from '../timelineBars';
import { useElementWidth } from '../useElementWidth';
import { LineChart, type ChartSeries } from '../components/LineChart';
import { intervalText } from '../components/TimelineCanvas';
import { Problem } from '../components/Problem';

/** The port's stretches held and the gaps in recording, on one strip with a clock axis. */
function HeldStrip({ history, interval }: { history: PortHistory; interval: Interval }) {
  const box = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);
  const span = interval.to - interval.from;
  const pct = (t: number) => `${(Math.min(Math.max(t, interval.from), interval.to) - interval.from) / span * 100}%`;
  const wide = (a: number, b: number) => `${(Math.max(0, Math.min(b, interval.to) - Math.max(a, interval.from)) / span) * 100}%`;
  const ticks = timeTicks(interval.from, interval.to, Math.max(100, width));
  return (
    <div ref={box}>
      <div className="strip" role="img" aria-label={`${portLabel(history.proto, history.port)} held in ${history.occupied.length} stretches in this range`}>
        {history.gaps.map((g) => (
          <div key={`g${g.from}`} className="gap" title={`Not recording ${intervalText(g.from, g.to)}: ${gapReason(g)}`} style={{ left: pct(g.from), width: wide(g.from, g.to) }} />
        ))}
        {history.occupied.map((o) => (
          <div key={o.from} className="held" title={`Held ${intervalText(o.from, o.to)}`} style={{ left: pct(o.from), width: wide(o.from, o.to) }} />
        ))}
      </div>
      <div className="time-axis" aria-hidden="true" data-ticks={ticks.map((t) => t.label).join('|')}>
        {ticks.map((t) => (
          <span key={t.at} className={`tick-${tickAlign((t.at - interval.from) / span, width)}`} style={{ left: pct(t.at) }}>
            {t.label}
          </span>
        ))}
      </div>
    </div>
  );
}

/** Why a port's traffic chart is empty: capture was off, or it was on and saw nothing. */
function NoTraffic({ history, capture }: { history: PortHistory; capture: Status['capture'] | null }) {
  if (history.rounds > 0 && history.captureRounds > 0) {
    return (
      <p className="muted">
        No traffic to or from this port: packet capture was on for {history.captureRounds} of the {history.rounds} rounds in this range and saw none.
      </p>
    );
  }
  return (
    <p className="muted">
      No traffic is known for this range: packet capture was off{capture?.message ? ` (${capture.message})` : ''}. With capture on, the packets and bytes each
      port carried appear here per round. {capture && capture.remedy.length > 0 ? 'The overview says how to grant it permission.' : <>Turn it on in <a href="#/settings">Settings</a> (capture.enabled).</>}
    </p>
  );
}

/** Everything known about one port in the range: when it was held, by whom, and its traffic. */
export function PortDetail({ port, interval, capture, onClose }: { port: PortKey; interval: Interval; capture: Status['capture'] | null; onClose: () => void }) {
  const history = usePortHistory(port.proto, port.port, interval);
  const heading = useRef<HTMLHeadingElement>(null);
  const traffic = history.data?.traffic;
  const xs = useMemo(() => traffic?.map((t) => t.at) ?? [], [traffic]);
  const series = useMemo<ChartSeries[]>(() => [{ label: 'Packets', values: traffic?.map((t) => t.packets) ?? [], color: 'accent', bars: true }], [traffic]);
  const totalBytes = traffic?.reduce((sum, t) => sum + t.bytes, 0) ?? 0;
  const totalPackets = traffic?.reduce((sum, t) => sum + t.packets, 0) ?? 0;

  useEffect(() => {
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [port.proto, port.port, onClose]);

  return (
    <article className="detail" aria-labelledby="port-title">
      <div className="detail-head">
        <h3 id="port-title" ref={heading} tabIndex={-1}>
          Port {portLabel(port.proto, port.port)}
        </h3>
        <button type="button" className="close" onClick={onClose} aria-label="Close the port (Escape)">
          Close
        </button>
      </div>
      {history.isPending && <p>Loading…</p>}
      {history.isError && <Problem error={history.error} what={`read the history of ${portLabel(port.proto, port.port)}`} />}
      {history.data && (
        <>
          <dl className="facts">
            <dt>First seen</dt>
            <dd>{history.data.firstSeenAt === null ? 'never' : formatDateTime(history.data.firstSeenAt)}</dd>
            <dt>Last seen</dt>
            <dd>{history.data.lastSeenAt === null ? 'never' : formatDateTime(history.data.lastSeenAt)}</dd>
          </dl>
          <h4>Owners</h4>
          {history.data.owners.length === 0 ? (
            <p className="muted">No owner recorded in this range: owners appear for the rounds in which the port was held.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Process</th>
                  <th scope="col">User</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                </tr>
              </thead>
              <tbody>
                {history.data.owners.map((o, i) => (
                  <tr key={i}>
                    <td>
                      {o.process ?? 'unknown'}
                      {o.pid !== null && <span className="muted"> (pid {o.pid})</span>}
                      {o.exe && <div className="muted mono">{o.exe}</div>}
                      {o.process !== null && (
                        <div>
                          <a href={hrefOf({ view: 'connections', range: { from: o.from, to: Math.max(o.to, o.from + 60_000) }, process: o.process, host: null })}>Its connections</a>
                        </div>
                      )}
                    </td>
                    <td>{o.user ?? 'unknown'}</td>
                    <td>{formatDateTime(o.from)}</td>
                    <td>{formatDateTime(o.to)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h4>Held</h4>
          <HeldStrip history={history.data} interval={interval} />
          {history.data.occupied.length === 0 ? (
            <p className="muted">Not held in this range{history.data.lastSeenAt !== null ? `; last seen ${formatDateTime(history.data.lastSeenAt)}` : ''}.</p>
          ) : (
            <ul className="intervals">
              {history.data.occupied.slice(-50).map((o) => (
                <li key={o.from}>
                  {formatDateTime(o.from)} for {formatDuration(o.to - o.from)}
                </li>
              ))}
            </ul>
          )}
          <h4>Traffic ({formatBytes(totalBytes)} in this range)</h4>
          {totalPackets === 0 ? (
            <NoTraffic history={history.data} capture={capture} />
          ) : (
            <LineChart label={`Packets to and from ${portLabel(port.proto, port.port)} over time`} xs={xs} series={series} height={140} xRange={interval} />
          )}
        </>
      )}
    </article>
  );
}
