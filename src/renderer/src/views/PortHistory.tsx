import { useCallback, useMemo, useState } from 'react';
import { navigate, type PortKey } from '../router';
import { narrow, RANGE_PRESETS, resolveRange, zoom, type Range, type RangeKey } from '../timeRange';
import { useStatus, useTimeline } from '../queries';
import { formatDateTime, formatDuration } from '../format';
import { NO_FILTER, SORT_LABELS, visibleRows, type PortFilter, type PortSort } from '../portRows';
import { Problem } from '../components/Problem';
import { GapList, TimelineCanvas } from '../components/TimelineCanvas';
import { PortDetail } from './PortDetail';

const BUCKETS = 240;

function Filters({ filter, sort, onFilter, onSort }: { filter: PortFilter; sort: PortSort; onFilter: (f: PortFilter) => void; onSort: (s: PortSort) => void }) {
  return (
    <div className="port-filters" role="group" aria-label="Filter and sort ports">
      <label>
        Port
        <input type="search" inputMode="numeric" value={filter.port} placeholder="e.g. 443" onChange={(e) => onFilter({ ...filter, port: e.target.value.replace(/\D/g, '') })} />
      </label>
      <label>
        Process
        <input type="search" value={filter.process} placeholder="e.g. sshd" onChange={(e) => onFilter({ ...filter, process: e.target.value })} />
      </label>
      <label>
        Protocol
        <select value={filter.proto} onChange={(e) => onFilter({ ...filter, proto: e.target.value as PortFilter['proto'] })}>
          <option value="any">TCP and UDP</option>
          <option value="tcp">TCP</option>
          <option value="udp">UDP</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={filter.newThisWeek} onChange={(e) => onFilter({ ...filter, newThisWeek: e.target.checked })} />
        New this week
      </label>
      <label>
        Sort by
        <select value={sort} onChange={(e) => onSort(e.target.value as PortSort)}>
          {(Object.keys(SORT_LABELS) as PortSort[]).map((k) => (
            <option key={k} value={k}>
              {SORT_LABELS[k]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** Port occupancy over a range, zoomable, filtered and sorted, with one port's whole history beside it. */
export function PortHistory({ range, port }: { range: Range; port: PortKey | null }) {
  // A preset ("last hour") is resolved once per visit or refresh, so the query key stays put.
  const [now, setNow] = useState(() => Date.now());
  const status = useStatus();
  // The fitted range needs to know when recording began; until status says, it waits.
  const firstAt = status.data ? (status.data.firstRoundAt ?? null) : status.isError ? null : undefined;
  const waiting = 'last' in range && range.last === 'fit' && firstAt === undefined;
  const interval = useMemo(() => resolveRange(range, now, firstAt), [range, now, firstAt]);
  const timeline = useTimeline(interval, BUCKETS, !waiting);
  const [filter, setFilter] = useState<PortFilter>(NO_FILTER);
  const [sort, setSort] = useState<PortSort>('port');
  const rows = useMemo(() => (timeline.data ? visibleRows(timeline.data.ports, filter, sort, now) : []), [timeline.data, filter, sort, now]);
  const go = useCallback((r: Range, p: PortKey | null = port) => navigate({ view: 'ports', range: r, port: p }), [port]);
  const close = useCallback(() => go(range, null), [go, range]);
  const nothingYet = status.data?.firstRoundAt === null;

  return (
    <section aria-labelledby="ports-title" className={port ? 'split open' : 'split'}>
      <div>
        <h2 id="ports-title">Port history</h2>
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
          <button type="button" onClick={() => go(narrow(interval, 0.25, 0.75))} aria-label="Zoom in">
            Zoom in
          </button>
          <button type="button" onClick={() => go(zoom(interval, 2, Date.now()))} aria-label="Zoom out">
            Zoom out
          </button>
          <button type="button" onClick={() => setNow(Date.now())}>
            Refresh
          </button>
        </div>
        <p className="muted" data-testid="range" data-from={interval.from} data-to={interval.to}>
          {formatDateTime(interval.from)} to {formatDateTime(interval.to)} ({formatDuration(interval.to - interval.from)}). Drag across the chart to zoom into a
          period; point at a bar for who held the port.
        </p>
        {timeline.data && timeline.data.ports.length > 0 && <Filters filter={filter} sort={sort} onFilter={setFilter} onSort={setSort} />}
        {(timeline.isPending || waiting) && <p>Loading the timeline…</p>}
        {timeline.isError && <Problem error={timeline.error} what="read the port timeline" />}
        {timeline.data &&
          (timeline.data.ports.length === 0 ? (
            <p className="muted">
              {nothingYet
                ? 'Nothing recorded yet. Each round (every minute while Portent runs) lists the ports that listen and who holds them; they appear here from the first round on.'
                : 'No port was held in this range. Ports appear here for the rounds in which a program listened on them; try a longer range.'}
            </p>
          ) : rows.length === 0 ? (
            <p className="muted">No port in this range matches the filter.</p>
          ) : (
            <>
              <TimelineCanvas timeline={timeline.data} rows={rows} selected={port} onSelect={(p) => go(range, p)} onNarrow={(a, b) => go(narrow(interval, a, b))} />
              {timeline.data.truncated && <p className="muted">Only the most held ports are shown; narrow the range to see the rest.</p>}
            </>
          ))}
        {timeline.data && <GapList gaps={timeline.data.gaps} />}
      </div>
      {port && <PortDetail port={port} interval={interval} capture={status.data?.capture ?? null} onClose={close} />}
    </section>
  );
}
