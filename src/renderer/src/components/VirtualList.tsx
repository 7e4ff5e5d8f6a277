import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

const FOCUSABLE = ['a[href]', 'button', '[tabindex]'];

interface Props<T> {
  items: readonly T[];
  rowHeight: number;
  /** Accessible name of the list. */
  label: string;
  keyOf: (item: T) => string | number;
  renderRow: (item: T, index: number) => ReactNode;
  /** Called when the last rows come into view (to load the next page). */
  onEnd?: () => void;
  height?: string;
}

/**
 * A long list that renders only the rows in view. Each row holds a real link or button, so Tab
 * reaches it; Up and Down move between rows, scrolling rows that are not rendered yet into view.
 */
export function VirtualList<T>({ items, rowHeight, label, keyOf, renderRow, onEnd, height = '60vh' }: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- read afresh on every render, never memoized
  const virtualizer = useVirtualizer({ count: items.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 8 });
  const rows = virtualizer.getVirtualItems();
  const lastShown = rows.at(-1)?.index ?? -1;
  useEffect(() => {
    if (onEnd && items.length > 0 && lastShown >= items.length - 1) onEnd();
  }, [onEnd, lastShown, items.length]);

  const focusRow = (index: number) => {
    virtualizer.scrollToIndex(index);
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(FOCUSABLE.map((f) => `[data-index="${index}"] ${f}`).join(', '))?.focus());
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!row) return;
    const next = Number(row.dataset.index) + (e.key === 'ArrowDown' ? 1 : -1);
    if (next < 0 || next >= items.length) return;
    e.preventDefault();
    focusRow(next);
  };

  return (
    <div ref={scroller} className="virtual-list" style={{ maxHeight: height }} role="list" aria-label={label} onKeyDown={onKeyDown}>
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {rows.map((row) => {
          const item = items[row.index]!;
          return (
            <div key={keyOf(item)} role="listitem" data-index={row.index} className="virtual-row" style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${row.start}px)` }}>
              {renderRow(item, row.index)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
