import type { Route } from '../router';
import { DEFAULT_RANGE, hrefOf } from '../router';

const PLACES: { view: Route['view']; label: string; href: string }[] = [
  { view: 'overview', label: 'Overview', href: hrefOf({ view: 'overview' }) },
  { view: 'incidents', label: 'Anomalies', href: hrefOf({ view: 'incidents', id: null }) },
  { view: 'ports', label: 'Port history', href: hrefOf({ view: 'ports', range: DEFAULT_RANGE, port: null }) },
  { view: 'connections', label: 'Connections', href: hrefOf({ view: 'connections', range: DEFAULT_RANGE, process: null, host: null }) },
  { view: 'detection', label: 'Detection', href: hrefOf({ view: 'detection' }) },
  { view: 'report', label: 'Daily report', href: hrefOf({ view: 'report', day: null }) },
  { view: 'settings', label: 'Settings', href: hrefOf({ view: 'settings' }) },
];

export function Nav({ current, unseen }: { current: Route['view']; unseen: number }) {
  return (
    <nav className="topbar" aria-label="Portent">
      <span className="brand">
        {/* The tray's glyph: a ring, its hub and the sweep. */}
        <svg className="brand-mark" viewBox="0 0 32 32" width="20" height="20" aria-hidden="true" focusable="false">
          <circle cx="16" cy="16" r="11.5" fill="none" stroke="currentColor" strokeWidth="3.8" />
          <circle cx="16" cy="16" r="2.9" fill="currentColor" />
          <path d="M16 16 L24.3 7.7" stroke="currentColor" strokeWidth="2.9" strokeLinecap="round" />
        </svg>
        Portent
      </span>
      <ul>
        {PLACES.map((p) => (
          <li key={p.view}>
            <a href={p.href} aria-current={current === p.view ? 'page' : undefined}>
              {p.label}
              {p.view === 'incidents' && unseen > 0 && (
                <span className="badge" aria-label={`${unseen} unseen`}>
                  {unseen}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
