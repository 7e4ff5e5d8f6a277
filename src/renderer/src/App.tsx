import { useEffect, useState } from 'react';
import type { Status } from '../../shared/contract';

type Load = { state: 'loading' } | { state: 'ready'; status: Status } | { state: 'error'; message: string };

export function App() {
  const [load, setLoad] = useState<Load>(() =>
    window.portent ? { state: 'loading' } : { state: 'error', message: 'This page is not connected to a Portent engine.' },
  );

  useEffect(() => {
    const api = window.portent;
    if (!api) return;
    api.getStatus().then(
      (status) => setLoad({ state: 'ready', status }),
      (err: unknown) => setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  }, []);

  return (
    <main>
      <h1>Portent</h1>
      {load.state === 'loading' && <p>Connecting…</p>}
      {load.state === 'error' && <p role="alert">{load.message}</p>}
      {load.state === 'ready' && (
        <dl>
          <dt>Version</dt>
          <dd>{load.status.version}</dd>
          <dt>Monitoring</dt>
          <dd>{load.status.monitoring ? `since ${new Date(load.status.monitoringSince ?? 0).toLocaleString()}` : 'stopped'}</dd>
          <dt>Database</dt>
          <dd>{load.status.database}</dd>
        </dl>
      )}
    </main>
  );
}
