import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Timeline } from '../../../shared/contract';
import { maxPool, rowAt } from '../downsample';
import { formatDateTime, portLabel } from '../format';
import type { PortKey } from '../router';
import { useThemeColors, type ThemeColors } from '../theme';
import { useElementWidth } from '../useElementWidth';

const ROW = 20;
const LABEL_WIDTH = 220;
const VIEW_HEIGHT = 440;

interface Props {
  timeline: Timeline;
  selected: PortKey | null;
  onSelect: (port: PortKey) => void;
  /** A drag across the chart: the fractions of the width where it started and ended. */
  onNarrow: (startFraction: number, endFraction: number) => void;
}

type Row = Timeline['ports'][number];

function draw(canvas: HTMLCanvasElement, timeline: Timeline, first: number, count: number, colors: ThemeColors, selected: PortKey | null) {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  // More buckets than pixel columns: keep each column's busiest bucket, so a short-lived
  // listener stays visible at any zoom.
  const columns = Math.min(timeline.rounds.length, Math.max(1, Math.floor(width)));
  const colWidth = width / columns;
  const recorded = maxPool(timeline.rounds, columns);
  ctx.fillStyle = colors.gap;
  recorded.forEach((n, c) => {
    if (n === 0) ctx.fillRect(c * colWidth, 0, Math.ceil(colWidth), height);
  });
  for (let r = first; r < Math.min(first + count, timeline.ports.length); r++) {
    const row = timeline.ports[r]!;
    const y = (r - first) * ROW;
    if (selected && selected.proto === row.proto && selected.port === row.port) {
      ctx.fillStyle = colors.selection;
      ctx.fillRect(0, y, width, ROW);
    }
    ctx.fillStyle = colors.occupied;
    maxPool(row.occupancy, columns).forEach((v, c) => {
      if (v <= 0) return;
      ctx.globalAlpha = 0.25 + 0.75 * v;
      ctx.fillRect(c * colWidth, y + 3, Math.max(1, Math.ceil(colWidth)), ROW - 6);
    });
    ctx.globalAlpha = 1;
    ctx.fillStyle = colors.grid;
    ctx.fillRect(0, y + ROW - 1, width, 1);
  }
}

/**
 * The occupancy timeline: ports as rows, time left to right, drawn on one canvas the height of
 * the view (hundreds of rows by hundreds of buckets would be too many elements). The row labels
 * are real buttons, rendered only where visible, so the keyboard reaches every port.
 */
export function TimelineCanvas({ timeline, selected, onSelect, onNarrow }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const colors = useThemeColors();
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const [hover, setHover] = useState<string>('');
  const width = useElementWidth(scroller);
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh on every render, never memoized
  const virtualizer = useVirtualizer({ count: timeline.ports.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 6 });
  const offset = virtualizer.scrollOffset ?? 0;
  const first = Math.floor(offset / ROW);
  const viewHeight = Math.min(VIEW_HEIGHT, Math.max(ROW, timeline.ports.length * ROW));
  // The canvas starts at the first visible row and never reaches past the last one.
  const canvasHeight = Math.min(viewHeight + ROW, Math.max(ROW, (timeline.ports.length - first) * ROW));
  const visibleRows = Math.ceil(canvasHeight / ROW);

  useEffect(() => {
    if (canvas.current) draw(canvas.current, timeline, first, visibleRows, colors, selected);
  }, [timeline, first, visibleRows, colors, selected, width]);

  const fraction = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return (e.clientX - rect.left) / rect.width;
  };

  const rowUnder = (e: PointerEvent<HTMLCanvasElement>): Row | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const i = rowAt(e.clientY - rect.top, ROW, timeline.ports.length - first);
    return i === null ? null : (timeline.ports[first + i] ?? null);
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ x0: fraction(e), x1: fraction(e) });
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (drag) setDrag({ ...drag, x1: fraction(e) });
    const row = rowUnder(e);
    const f = Math.min(1, Math.max(0, fraction(e)));
    const bucket = Math.min(timeline.rounds.length - 1, Math.floor(f * timeline.rounds.length));
    const at = timeline.from + bucket * timeline.bucketMs;
    const occupied = row?.occupancy[bucket];
    setHover(row ? `${portLabel(row.proto, row.port)} at ${formatDateTime(at)}: ${timeline.rounds[bucket] ? `occupied in ${Math.round((occupied ?? 0) * 100)}% of rounds` : 'no rounds recorded'}` : '');
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
    const row = rowUnder(e);
    if (row) onSelect({ proto: row.proto, port: row.port });
  };

  return (
    <div className="timeline">
      <div ref={scroller} className="timeline-scroll" style={{ height: viewHeight }}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const row = timeline.ports[v.index]!;
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
            aria-label="Port occupancy over time; drag across it to zoom into a period, click a row to open that port"
            style={{ top: first * ROW, left: LABEL_WIDTH, height: canvasHeight, width: `calc(100% - ${LABEL_WIDTH}px)` }}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerLeave={() => setHover('')}
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
      <div className="timeline-axis" style={{ marginLeft: LABEL_WIDTH }}>
        <span>{formatDateTime(timeline.from)}</span>
        <span>{formatDateTime((timeline.from + timeline.to) / 2)}</span>
        <span>{formatDateTime(timeline.to)}</span>
      </div>
      <p className="muted hover-line" aria-live="off">
        {hover || '\u00a0'}
      </p>
    </div>
  );
}
