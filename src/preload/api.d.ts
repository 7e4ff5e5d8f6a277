import type { PortentApi } from '../shared/contract';

// The only thing the renderer knows of the preload: the API it exposes on window.
declare global {
  interface Window {
    portent?: PortentApi;
  }
}
