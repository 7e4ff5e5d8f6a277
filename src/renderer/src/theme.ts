import { useMemo, useSyncExternalStore } from 'react';

/**
 * Canvas and chart drawing cannot use CSS variables directly, so the colours are read from the
 * stylesheet and read again when the system switches between light and dark.
 */
const DARK = '(prefers-color-scheme: dark)';

function subscribe(onChange: () => void): () => void {
  const query = window.matchMedia(DARK);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

export interface ThemeColors {
  fg: string;
  muted: string;
  grid: string;
  accent: string;
  danger: string;
  occupied: string;
  gap: string;
  selection: string;
}

const NAMES: Record<keyof ThemeColors, string> = {
  fg: '--fg',
  muted: '--muted',
  grid: '--grid',
  accent: '--accent',
  danger: '--danger',
  occupied: '--occupied',
  gap: '--gap',
  selection: '--selection',
};

export function useThemeColors(): ThemeColors {
  const dark = useSyncExternalStore(subscribe, () => window.matchMedia(DARK).matches);
  return useMemo(() => {
    void dark; // the dependency: the same variables resolve to other colours
    const style = getComputedStyle(document.documentElement);
    return Object.fromEntries(Object.entries(NAMES).map(([k, v]) => [k, style.getPropertyValue(v).trim() || 'gray'])) as unknown as ThemeColors;
  }, [dark]);
}
