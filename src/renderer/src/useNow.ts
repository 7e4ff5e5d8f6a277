import { useEffect, useState } from 'react';

/** The current time, refreshed every `everyMs`: renders stay pure and "5 min ago" keeps moving. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
