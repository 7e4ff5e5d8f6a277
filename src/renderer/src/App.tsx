import { useMemo } from 'react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Nav } from './components/Nav';
import { parseRoute, useHash, type Route } from './router';
import { useEngineEvents, useStatus } from './queries';
import { Overview } from './views/Overview';
import { Incidents } from './views/Incidents';
import { PortHistory } from './views/PortHistory';
import { Connections } from './views/Connections';
import { Detection } from './views/Detection';
import { Settings } from './views/Settings';
import { Report } from './views/Report';

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'overview':
      return <Overview />;
    case 'incidents':
      return <Incidents id={route.id} />;
    case 'ports':
      return <PortHistory range={route.range} port={route.port} />;
    case 'connections':
      return <Connections range={route.range} process={route.process} host={route.host} />;
    case 'detection':
      return <Detection />;
    case 'report':
      return <Report day={route.day} />;
    case 'settings':
      return <Settings />;
    case 'not-found':
      return (
        <p role="alert">
          There is nothing at {route.path}. <a href="#/">Go to the overview</a>.
        </p>
      );
  }
}

function Shell() {
  const hash = useHash();
  const route = useMemo(() => parseRoute(hash), [hash]);
  const status = useStatus();
  useEngineEvents();
  return (
    <>
      {/* A button, not an in-page link: the hash belongs to the router. */}
      <button type="button" className="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <Nav current={route.view} unseen={status.data?.incidents.unseen ?? 0} />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={hash}>
          <View route={route} />
        </ErrorBoundary>
      </main>
    </>
  );
}

// Failed reads are retried once, quietly; after that the view says what went wrong.
const client = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: true } } });

export function App() {
  return (
    <QueryClientProvider client={client}>
      <ErrorBoundary resetKey="app">
        <Shell />
      </ErrorBoundary>
    </QueryClientProvider>
  );
}
