import { useEffect, useMemo, useRef, useState, type PointerEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { RecordingGap, Timeline } from '../../../shared/contract';
import { rowAt } from '../downsample';
import { formatDateTime, formatDuration, portLabel } from '../format';
import type { PortKey } from '../router';
import { useThemeColors, type ThemeColors } from '../theme';
import { tickAlign, timeTicks, type TimeTick } from '../ticks';
import { barAt, barsOf, gapAt, gapBuckets, gapReason, type Bar } from '../timelineBars';
import type { PortRow } from '../portRows';
import { usePortHistory } from '../queries';
import { useElementWidth } from '../useElementWidth';
import './charts.css';

const ROW = 20;
const LABEL_WIDTH = 220;
const VIEW_HEIGHT = 440;
/** Bars listed one by one for screen readers; a port held in more stretches is summed up. */
const LISTED_BARS = 12;

interface Props {
  timeline: Timeline;
  /** The ports to show, filtered and sorted. */
  rows: readonly PortRow[];
  selected: PortKey | null;
  onSelect: (port: PortKey) => void;
  /** A drag across the chart: the fractions of the width where it started and ended. */
  onNarrow: (startFraction: number, endFraction: number) => void;
}

type Hover = { x: number; y: number } & ({ kind: 'bar'; row: PortRow; bar: Bar } | { kind: 'gap'; gap: RecordingGap } | { kind: 'none'; row: PortRow; at: number });

function hatch(ctx: CanvasRenderingContext2D, colors: ThemeColors): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const t = tile.getContext('2d');
  if (!t) return colors.gap;
  t.fillStyle = colors.gap;
  t.fillRect(0, 0, 8, 8);
  t.strokeStyle = colors.muted;
  t.globalAlpha = 0.45;
  t.lineWidth = 1;
  t.beginPath();
  t.moveTo(0, 8);
  t.lineTo(8, 0);
  t.stroke();
  return ctx.createPattern(tile, 'repeat') ?? colors.gap;
}

interface DrawInput {
  timeline: Timeline;
  rows: readonly PortRow[];
  bars: readonly Bar[][];
  first: number;
  count: number;
  colors: ThemeColors;
  selected: PortKey | null;
  ticks: readonly TimeTick[];
}

function draw(canvas: HTMLCanvasElement, { timeline, rows, bars, first, count, colors, selected, ticks }: DrawInput) {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const span = timeline.to - timeline.from;
  const x = (t: number) => ((t - timeline.from) / span) * width;
  ctx.fillStyle = colors.grid;
  for (const t of ticks) ctx.fillRect(Math.round(x(t.at)), 0, 1, height);
  // Time not recorded is hatched across every row: nothing is known there, which is not "closed".
  ctx.fillStyle = hatch(ctx, colors);
  for (const g of timeline.gaps) ctx.fillRect(x(g.from), 0, Math.max(1, x(g.to) - x(g.from)), height);
  for (let r = first; r < Math.min(first + count, rows.length); r++) {
    const row = rows[r]!;
    const y = (r - first) * ROW;
    if (selected && selected.proto === row.proto && selected.port === row.port) {
      ctx.fillStyle = colors.selection;
      ctx.globalAlpha = 0.6;
      ctx.fillRect(0, y, width, ROW);
      ctx.globalAlpha = 1;
    }
    ctx.fillStyle = colors.occupied;
    for (const bar of bars[r]!) {
      // A port held in only some of the rounds under a bar is drawn paler.
      ctx.globalAlpha = 0.35 + 0.65 * bar.share;
      ctx.fillRect(x(bar.from), y + 4, Math.max(2, x(bar.to) - x(bar.from)), ROW - 8);
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = colors.grid;
    ctx.fillRect(0, y + ROW - 1, width, 1);
  }
}

/** "Mar 10, 14:00 to 15:30 (1 h 30 min)": the end's date only when it is another day. */
export function intervalText(from: number, to: number): string {
  const sameDay = new Date(from).toDateString() === new Date(to).toDateString();
  const end = sameDay ? new Date(to).toLocaleTimeString(undefined, { timeStyle: 'short' }) : formatDateTime(to);
  return `${formatDateTime(from)} to ${end} (${formatDuration(to - from)})`;
}

function ownersText(owners: readonly { process: string | null; pid: number | null }[]): string {
  if (owners.length === 0) return 'unknown process';
  return owners.map((o) => `${o.process ?? 'unknown process'}${o.pid === null ? '' : ` (pid ${o.pid})`}`).join(', ');
}

/** Who held the port under one bar: asked for that interval, so the pid is the bar's own. */
function BarTip({ row, bar }: { row: PortRow; bar: Bar }) {
  const exact = usePortHistory(row.proto, row.port, { from: bar.from, to: Math.max(bar.to, bar.from + 1) });
  const owners = exact.data?.owners.length ? exact.data.owners : row.owners;
  return (
    <>
      <strong>{portLabel(row.proto, row.port)}</strong> held by {ownersText(owners)}
      <br />
      {intervalText(bar.from, bar.to)}
      {bar.share < 1 && <> · in {Math.round(bar.share * 100)}% of its rounds</>}
    </>
  );
}

function gapText(gap: RecordingGap): string {
  return `Not recording ${intervalText(gap.from, gap.to)}: ${gapReason(gap)}`;
}

/** One row of the text version: the port, who held it, and each stretch. */
function rowText(row: PortRow, bars: readonly Bar[]): string {
  const who = ownersText(row.owners);
  if (bars.length === 0) return `${portLabel(row.proto, row.port)}, ${who}: held only briefly`;
  if (bars.length <= LISTED_BARS) return `${portLabel(row.proto, row.port)}, ${who}: held ${bars.map((b) => intervalText(b.from, b.to)).join('; ')}`;
  const longest = bars.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a));
  return `${portLabel(row.proto, row.port)}, ${who}: held in ${bars.length} separate stretches, the longest ${intervalText(longest.from, longest.to)}`;
}

/**
 * The port history: ports as rows, time left to right, each stretch a port was held one bar,
 * time Portent was not recording hatched. Drawn on one canvas the height of the view (hundreds
 * of rows by hundreds of buckets would be too many elements); the row labels are real buttons,
 * rendered only where visible, so the keyboard reaches every port; and the same picture is
 * given as text (a list of each port's stretches and of the gaps) for screen readers.
 */
export function TimelineCanvas({ timeline, rows, selected, onSelect, onNarrow }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const container = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const colors = useThemeColors();
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const width = useElementWidth(scroller);
  const plotWidth = Math.max(100, width - LABEL_WIDTH);
  const bars = useMemo(() => {
    const inGap = gapBuckets(timeline);
    return rows.map((r) => barsOf(r.occupancy, timeline, inGap));
  }, [timeline, rows]);
  const ticks = useMemo(() => timeTicks(timeline.from, timeline.to, plotWidth), [timeline.from, timeline.to, plotWidth]);
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh on every render, never memoized
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 6 });
  const offset = virtualizer.scrollOffset ?? 0;
  const first = Math.floor(offset / ROW);
  const viewHeight = Math.min(VIEW_HEIGHT, Math.max(ROW, rows.length * ROW));
  // The canvas starts at the first visible row and never reaches past the last one.
  const canvasHeight = Math.min(viewHeight + ROW, Math.max(ROW, (rows.length - first) * ROW));
  const visibleRows = Math.ceil(canvasHeight / ROW);

  useEffect(() => {
    if (canvas.current) draw(canvas.current, { timeline, rows, bars, first, count: visibleRows, colors, selected, ticks });
  }, [timeline, rows, bars, first, visibleRows, colors, selected, ticks, width]);

  const span = timeline.to - timeline.from;
  const fraction = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return (e.clientX - rect.left) / rect.width;
  };

  const rowIndexUnder = (e: PointerEvent<HTMLCanvasElement>): number | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const i = rowAt(e.clientY - rect.top, ROW, rows.length - first);
    return i === null ? null : first + i;
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ x0: fraction(e), x1: fraction(e) });
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (drag) setDrag({ ...drag, x1: fraction(e) });
    const rect = e.currentTarget.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, fraction(e)));
    const at = timeline.from + f * span;
    const i = rowIndexUnder(e);
    // Relative to the timeline box, beside the pointer.
    const box = container.current?.getBoundingClientRect();
    const x = e.clientX - (box?.left ?? 0) + 14;
    const y = e.clientY - (box?.top ?? 0) + 16;
    if (i === null) return setHover(null);
    const row = rows[i]!;
    // A thin bar is hard to hit: three pixels either side count.
    const bar = barAt(bars[i]!, at, (3 / rect.width) * span);
    if (bar) return setHover({ kind: 'bar', row, bar, x, y });
    const gap = gapAt(timeline.gaps, at);
    if (gap) return setHover({ kind: 'gap', gap, x, y });
    setHover({ kind: 'none', row, at, x, y });
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drag) return;
    const x1 = fraction(e);
    setDrag(null);
    const widthPx = e.currentTarget.getBoundingClientRect().width;
    if (Math.abs(x1 - drag.x0) * widthPx > 6) {
      onNarrow(drag.x0, x1);
      return;
    }
    const i = rowIndexUnder(e);
    if (i !== null) onSelect({ proto: rows[i]!.proto, port: rows[i]!.port });
  };

  return (
    <div ref={container} className="timeline" style={{ position: 'relative' }}>
      <div ref={scroller} className="timeline-scroll" style={{ height: viewHeight }}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const row = rows[v.index]!;
            const isSelected = selected?.proto === row.proto && selected.port === row.port;
            return (
              <button
                key={`${row.proto}/${row.port}`}
                type="button"
                className="timeline-label"
                aria-pressed={isSelected}
                title={row.processes.join(', ')}
                style={{ top: v.start, height: ROW, width: LABEL_WIDTH }}
                onClick={() => onSelect({ proto: row.proto, port: row.port })}
              >
                <strong>{portLabel(row.proto, row.port)}</strong> <span className="muted">{row.processes.join(', ') || 'unknown process'}</span>
              </button>
            );
          })}
          <canvas
            ref={canvas}
            className="timeline-canvas"
            aria-label="Ports held over time, one bar per stretch held, hatched where Portent was not recording; drag across it to zoom into a period, click a row to open that port. The same as text follows."
            style={{ top: first * ROW, left: LABEL_WIDTH, height: canvasHeight, width: `calc(100% - ${LABEL_WIDTH}px)` }}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerLeave={() => setHover(null)}
          />
          {drag && (
            <div
              className="timeline-drag"
              style={{
                top: first * ROW,
                height: canvasHeight,
                left: `calc(${LABEL_WIDTH}px + (100% - ${LABEL_WIDTH}px) * ${Math.min(drag.x0, drag.x1)})`,
                width: `calc((100% - ${LABEL_WIDTH}px) * ${Math.abs(drag.x1 - drag.x0)})`,
              }}
            />
          )}
        </div>
      </div>
      <div className="time-axis" style={{ marginLeft: LABEL_WIDTH }} aria-hidden="true">
        {ticks.map((t) => (
          <span key={t.at} className={`tick-${tickAlign((t.at - timeline.from) / span, width - LABEL_WIDTH)}`} style={{ left: `${((t.at - timeline.from) / span) * 100}%` }}>
            {t.label}
          </span>
        ))}
      </div>
      {hover && (
        <div className="timeline-tip" role="tooltip" style={{ left: Math.min(hover.x, Math.max(0, width - 300)), top: hover.y }}>
          {hover.kind === 'bar' && <BarTip row={hover.row} bar={hover.bar} />}
          {hover.kind === 'gap' && gapText(hover.gap)}
          {hover.kind === 'none' && (
            <>
              <strong>{portLabel(hover.row.proto, hover.row.port)}</strong> not held at {formatDateTime(hover.at)}
            </>
          )}
        </div>
      )}
      <ul className="visually-hidden" aria-label="Ports and when each was held">
        {rows.map((row, i) => (
          <li key={`${row.proto}/${row.port}`} data-port={portLabel(row.proto, row.port)} data-bars={JSON.stringify(bars[i]!.map((b) => [b.from, b.to]))}>
            {rowText(row, bars[i]!)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The stretches of the range Portent was not recording, each with its reason. */
export function GapList({ gaps }: { gaps: readonly RecordingGap[] }) {
  if (gaps.length === 0) return null;
  const shown = gaps.slice(-10);
  return (
    <>
      <p className="chart-legend">
        <span className="legend-item">
          <span className="swatch bar" /> held
        </span>
        <span className="legend-item">
          <span className="swatch hatched" /> not recording (nothing known)
        </span>
        <span className="legend-item muted">blank: recorded, not held</span>
      </p>
      <ul className="gap-list" aria-label="When Portent was not recording">
        {shown.map((g) => (
          <li key={g.from} data-reason={g.reason} data-from={g.from} data-to={g.to}>
            {gapText(g)}
          </li>
        ))}
        {gaps.length > shown.length && <li className="muted">and {gaps.length - shown.length} earlier</li>}
      </ul>
    </>
  );
}
