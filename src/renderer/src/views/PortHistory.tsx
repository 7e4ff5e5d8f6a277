import { useCallback, useMemo, useState } from 'react';
import { navigate, type PortKey } from '../router';
import { narrow, RANGE_PRESETS, resolveRange, zoom, type Range, type RangeKey } from '../timeRange';
import { useTimeline } from '../queries';
import { formatDateTime } from '../format';
import { Problem } from '../components/Problem';
import { TimelineCanvas } from '../components/TimelineCanvas';
import { PortDetail } from './PortDetail';

const BUCKETS = 240;

/** Port occupancy over a range, zoomable, with one port's whole history beside it. */
export function PortHistory({ range, port }: { range: Range; port: PortKey | null }) {
  // A preset ("last hour") is resolved once per visit or refresh, so the query key stays put.
  const [now, setNow] = useState(() => Date.now());
  const interval = useMemo(() => resolveRange(range, now), [range, now]);
  const timeline = useTimeline(interval, BUCKETS, true);
  const go = useCallback((r: Range, p: PortKey | null = port) => navigate({ view: 'ports', range: r, port: p }), [port]);
  const close = useCallback(() => go(range, null), [go, range]);

  return (
    <section aria-labelledby="ports-title" className={port ? 'split open' : 'split'}>
      <div>
        <h2 id="ports-title">Port history</h2>
        <div className="toolbar" role="group" aria-label="Time range">
          {(Object.keys(RANGE_PRESETS) as RangeKey[]).map((key) => (
            <button key={key} type="button" aria-pressed={'last' in range && range.last === key} onClick={() => {
              setNow(Date.now());
              go({ last: key });
            }}>
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
        <p className="muted">
          {formatDateTime(interval.from)} to {formatDateTime(interval.to)}. Drag across the chart to zoom into a period.
        </p>
        {timeline.isPending && <p>Loading the timeline…</p>}
        {timeline.isError && <Problem error={timeline.error} what="read the port timeline" />}
        {timeline.data &&
          (timeline.data.ports.length === 0 ? (
            <p className="muted">No port was occupied in this range.</p>
          ) : (
            <>
              <TimelineCanvas timeline={timeline.data} selected={port} onSelect={(p) => go(range, p)} onNarrow={(a, b) => go(narrow(interval, a, b))} />
              {timeline.data.truncated && <p className="muted">Only the most occupied ports are shown; narrow the range to see the rest.</p>}
            </>
          ))}
      </div>
      {port && <PortDetail port={port} interval={interval} onClose={close} />}
    </section>
  );
}
