import { METHOD_NAMES, type MethodName } from '../../shared/methods';
import type { PortentApi } from '../../shared/contract';

/**
 * How the page reaches the engine. In the desktop app the preload exposes the contract's
 * functions as `window.portent`; served by `portent serve`, the same functions call the HTTP
 * bridge (`POST /api/<method>` with the arguments as a JSON array, authenticated by the cookie
 * the bridge set when the page was first opened). Either way the views see one `PortentApi`.
 */

interface Reply {
  ok?: boolean;
  result?: unknown;
  error?: string;
}

async function call(method: MethodName, args: unknown[]): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
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
