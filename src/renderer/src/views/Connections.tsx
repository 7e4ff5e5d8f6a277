import { useMemo, useState, type FormEvent } from 'react';
import type { ConnectionEndpoint, Connections as ConnectionsData } from '../../../shared/contract';
import { count, formatBytes, formatDateTime } from '../format';
import { useConnections, useStatus } from '../queries';
import { navigate } from '../router';
import { RANGE_PRESETS, resolveRange, type Range, type RangeKey } from '../timeRange';
import { Problem } from '../components/Problem';

const STATE_LABELS: Record<ConnectionEndpoint['states'][number], string> = {
  'syn-sent': 'connecting',
  'syn-recv': 'being accepted',
  established: 'open',
  'fin-wait-1': 'closing',
  'fin-wait-2': 'closing',
  'close-wait': 'closed by peer',
  'last-ack': 'closing',
  closing: 'closing',
  connected: 'connected (UDP)',
};

/** `name (address):port`, or the address alone when no name was resolved; IPv6 in brackets. */
export function remoteLabel(e: Pick<ConnectionEndpoint, 'address' | 'port' | 'name' | 'direction'>): { main: string; detail: string | null } {
  const address = e.address.includes(':') ? `[${e.address}]` : e.address;
  const port = e.direction === 'in' ? '' : `:${e.port}`;
  return e.name ? { main: `${e.name}${port}`, detail: `${e.address}` } : { main: `${address}${port}`, detail: null };
}

function directionLabel(e: ConnectionEndpoint): string {
  return e.direction === 'in' ? `in, to port ${e.localPort ?? '?'}` : 'out';
}

function statesLabel(states: ConnectionEndpoint['states']): string {
  return [...new Set(states.map((s) => STATE_LABELS[s]))].join(', ');
}

function summary(data: ConnectionsData): string {
  const endpoints = data.processes.reduce((n, p) => n + p.endpoints.length, 0);
  const fresh = data.processes.reduce((n, p) => n + p.endpoints.filter((e) => e.isNew).length, 0);
  return `${count(data.processes.length, 'process', 'processes')} talked with ${count(endpoints, 'remote end')}${fresh > 0 ? `, ${fresh} of them new in this range` : ''}.`;
}

/**
 * Who talked to whom: per process, the remote ends it held connections to over a range, with
 * the names the machine resolved for them, their states and, when capture was on, the bytes.
 */
export function Connections({ range, process, host }: { range: Range; process: string | null; host: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  // "Fit to data" starts at the oldest round; until the status says when, a day.
  const firstAt = useStatus().data?.firstRoundAt;
  const interval = useMemo(() => resolveRange(range, now, firstAt), [range, now, firstAt]);
  const connections = useConnections(interval, process, host);
  const go = (r: Range, p: string | null = process, h: string | null = host) => navigate({ view: 'connections', range: r, process: p, host: h });
  const [processText, setProcessText] = useState(process ?? '');
  const [hostText, setHostText] = useState(host ?? '');
  // The filters follow the address (back, a link) without remounting, so typing is never lost:
  // React's way of resetting state when a prop changes, during render.
  const [shown, setShown] = useState({ process, host });
  if (shown.process !== process || shown.host !== host) {
    setShown({ process, host });
    setProcessText(process ?? '');
    setHostText(host ?? '');
  }
  const filtered = process !== null || host !== null;

  const applyFilters = (e: FormEvent) => {
    e.preventDefault();
    go(range, processText.trim() || null, hostText.trim() || null);
  };

  return (
    <section aria-labelledby="connections-title">
      <h2 id="connections-title">Connections</h2>
      <div className="toolbar" role="group" aria-label="Time range">
        {(Object.keys(RANGE_PRESETS) as RangeKey[]).map((key) => (
          <button
            key={key}
            type="button"
            aria-pressed={'last' in range && range.last === key}
            onClick={() => {
              setNow(Date.now());
              go({ last: key });
            }}
          >
            {RANGE_PRESETS[key].label}
          </button>
        ))}
        <button type="button" onClick={() => setNow(Date.now())}>
          Refresh
        </button>
      </div>
      <form className="toolbar filters" role="search" aria-label="Filter connections" onSubmit={applyFilters}>
        <label>
          Process <input type="search" value={processText} onChange={(e) => setProcessText(e.target.value)} placeholder="e.g. firefox" maxLength={200} />
        </label>
        <label>
          Host <input type="search" value={hostText} onChange={(e) => setHostText(e.target.value)} placeholder="name or address" maxLength={200} />
        </label>
        <button type="submit">Filter</button>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setProcessText('');
              setHostText('');
              go(range, null, null);
            }}
          >
            Clear
          </button>
        )}
      </form>
      <p className="muted">
        {formatDateTime(interval.from)} to {formatDateTime(interval.to)}. Each minute's round lists the sockets that talk. Names and the bytes sent and received come from packet capture; — means capture saw none of that traffic (capture was off, or no round saw the connection it belonged to).
      </p>
      {connections.isPending && <p>Loading connections…</p>}
      {connections.isError && <Problem error={connections.error} what="read the connections" />}
      {connections.data &&
        (connections.data.processes.length === 0 ? (
          <p className="muted">
            {filtered
              ? 'No connection in this range matches the filter.'
              : 'No connection was recorded in this range. Rounds record the sockets that talk every minute while Portent monitors.'}
          </p>
        ) : (
          <>
            <p>{summary(connections.data)}</p>
            {connections.data.processes.map((p) => (
              <ProcessConnections key={`${p.process}|${p.exe}|${p.user}`} owner={p} />
            ))}
            {connections.data.truncated && <p className="muted">Only the most recently seen remote ends are shown; narrow the range or filter to see the rest.</p>}
          </>
        ))}
    </section>
  );
}

function ProcessConnections({ owner }: { owner: ConnectionsData['processes'][number] }) {
  const name = owner.process ?? 'Unknown process';
  return (
    <article className="panel connections" aria-label={`Connections of ${name}`}>
      <h3>
        {name} <span className="muted">{count(owner.endpoints.length, 'remote end')}</span>
      </h3>
      {owner.process === null ? (
        <p className="muted">Portent could not see which process held these sockets: another user's, which it may only name when it runs with the rights to look at every process.</p>
      ) : (
        <p className="muted mono">
          {owner.exe ?? 'executable unknown'}
          {owner.user && ` · ${owner.user}`}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Remote end</th>
            <th scope="col">Direction</th>
            <th scope="col">State</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col" className="num">Sent</th>
            <th scope="col" className="num">Received</th>
          </tr>
        </thead>
        <tbody>
          {owner.endpoints.map((e) => {
            const label = remoteLabel(e);
            return (
              <tr key={`${e.proto}|${e.address}|${e.port}|${e.direction}|${e.localPort}`}>
                <td>
                  <span className="mono">{label.main}</span> <span className="muted">{e.proto}</span>
                  {e.isNew && (
                    <span className="badge" title="First talked with in this range">
                      new
                    </span>
                  )}
                  {label.detail && <div className="muted mono">{label.detail}</div>}
                </td>
                <td>{directionLabel(e)}</td>
                <td>
                  {statesLabel(e.states)}
                  {e.maxSockets > 1 && <span className="muted"> ({e.maxSockets} sockets)</span>}
                </td>
                <td>{formatDateTime(e.firstSeenAt)}</td>
                <td>{formatDateTime(e.lastSeenAt)}</td>
                <td className="num">{e.traffic ? formatBytes(e.traffic.bytesOut) : '—'}</td>
                <td className="num">{e.traffic ? formatBytes(e.traffic.bytesIn) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </article>
  );
}
