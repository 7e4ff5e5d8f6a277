import { isEngineEvent, METHOD_NAMES, type EngineEvent, type MethodName } from '../../shared/methods';
import type { PortentApi } from '../../shared/contract';

/**
 * How the page reaches the engine. In the desktop app the preload exposes the contract's
 * functions as `window.portent`; served by `portent serve`, the same functions call the HTTP
 * bridge (`POST /api/<method>` with the arguments as a JSON array and the access token as a
 * bearer header). Either way the views see one `PortentApi`.
 */

const TOKEN_KEY = 'portent-token';

/**
 * The access token: from the address's fragment (`#token=…`, which the browser never sends to a
 * server), then kept in this tab's session storage, which belongs to this origin alone (port
 * included, unlike a cookie), so a reload keeps working and no other local server ever sees it.
 * The fragment is taken out of the address bar at once.
 */
function accessToken(): string | null {
  const fromAddress = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash)?.[1];
  if (fromAddress) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, fromAddress);
    } catch {
      // Storage refused (a private mode): the token lives in this page's memory only.
    }
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return fromAddress;
  }
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

// Taken when this module loads, before the first render: the window's routes live in the
// fragment too, and `#token=…` must be gone before the router reads it.
let token: string | null = window.portent ? null : accessToken();

interface Reply {
  ok?: boolean;
  result?: unknown;
  error?: string;
}

async function call(method: MethodName, args: unknown[]): Promise<unknown> {
  let response: Response;
  try {
    token ??= accessToken();
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(args),
    });
  } catch (err) {
    throw new Error(`Portent is not reachable (${(err as Error).message}); is \`portent serve\` still running?`, { cause: err });
  }
  let reply: Reply | null = null;
  try {
    reply = (await response.json()) as Reply;
  } catch {
    // A reply that is not JSON (401 and 403 are short text) is described by its status below.
  }
  if (response.ok && reply?.ok === true) return reply.result;
  if (reply && typeof reply.error === 'string') throw new Error(reply.error);
  if (response.status === 401) throw new Error('Portent needs its access token: open the address `portent serve` printed.');
  throw new Error(`${method} failed: HTTP ${response.status}`);
}

/** One function per contract method over HTTP. */
export function httpApi(): PortentApi {
  return Object.fromEntries(METHOD_NAMES.map((method) => [method, (...args: unknown[]) => call(method, args)])) as PortentApi;
}

export const api: PortentApi = window.portent ?? httpApi();

/** In the desktop app (not the page `portent serve` serves): only there can a file manager be opened. */
export const inDesktopApp = window.portent !== undefined;

/**
 * Reads `portent serve`'s event stream (server-sent events over fetch, since EventSource cannot
 * send the bearer header) until `signal` aborts; resolves when the stream ends.
 */
async function readEventStream(onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<void> {
  token ??= accessToken();
  const response = await fetch('/api/events', { credentials: 'omit', headers: token ? { Authorization: `Bearer ${token}` } : {}, signal });
  if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        try {
          const event: unknown = JSON.parse(line.slice('data: '.length));
          if (isEngineEvent(event)) onEvent(event);
        } catch {
          // A line that is not an event is skipped; the next one may be.
        }
      }
    }
  }
}

/**
 * The engine's events, as they happen: from the preload in the desktop app, from the event
 * stream under `portent serve` (reconnecting after a drop, waiting longer each time up to 30 s;
 * `onReconnect` is called once it is back, since events may have been missed meanwhile).
 * Returns how to stop.
 */
export function subscribeEngineEvents(onEvent: (event: EngineEvent) => void, onReconnect: () => void = () => {}): () => void {
  if (window.portentEvents) return window.portentEvents.subscribe(onEvent);
  const abort = new AbortController();
  void (async () => {
    let delay = 1_000;
    let first = true;
    while (!abort.signal.aborted) {
      try {
        if (!first) onReconnect();
        first = false;
        await readEventStream((event) => {
          delay = 1_000;
          onEvent(event);
        }, abort.signal);
      } catch {
        // Not reachable or refused: tried again below.
      }
      if (abort.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(30_000, delay * 2);
    }
  })();
  return () => abort.abort();
}
