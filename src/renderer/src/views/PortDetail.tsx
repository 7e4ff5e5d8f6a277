import { useEffect, useMemo, useRef } from 'react';
import { formatBytes, formatDateTime, formatDuration, portLabel } from '../format';
import { hrefOf, type PortKey } from '../router';
import type { Interval } from '../timeRange';
import { usePortHistory } from '../queries';
import { LineChart, type ChartSeries } from '../components/LineChart';
import { Problem } from '../components/Problem';

/** Everything known about one port in the range: when it was held, by whom, and its traffic. */
export function PortDetail({ port, interval, onClose }: { port: PortKey; interval: Interval; onClose: () => void }) {
  const history = usePortHistory(port.proto, port.port, interval);
  const heading = useRef<HTMLHeadingElement>(null);
  const traffic = history.data?.traffic;
  const xs = useMemo(() => traffic?.map((t) => t.at) ?? [], [traffic]);
  const series = useMemo<ChartSeries[]>(() => [{ label: 'Packets', values: traffic?.map((t) => t.packets) ?? [], color: 'accent', bars: true }], [traffic]);
  const totalBytes = traffic?.reduce((sum, t) => sum + t.bytes, 0) ?? 0;

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
            <p className="muted">No owner recorded in this range.</p>
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
          <h4>Occupied</h4>
          {history.data.occupied.length === 0 ? (
            <p className="muted">Not occupied in this range.</p>
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
          {xs.length === 0 ? <p className="muted">No traffic recorded.</p> : <LineChart label={`Packets to and from ${portLabel(port.proto, port.port)} over time`} xs={xs} series={series} height={140} />}
        </>
      )}
    </article>
  );
}
