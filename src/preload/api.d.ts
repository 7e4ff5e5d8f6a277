import type { PortentApi } from '../shared/contract';
import type { EngineEvent } from '../shared/methods';

// The only thing the renderer knows of the preload: the API and the event feed it exposes on window.
declare global {
  interface Window {
    portent?: PortentApi;
    portentEvents?: { subscribe(listener: (event: EngineEvent) => void): () => void };
  }
}
