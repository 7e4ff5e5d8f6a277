import { contextBridge, ipcRenderer } from 'electron';
import { channelOf, EVENT_CHANNEL, isEngineEvent, METHOD_NAMES, type EngineEvent } from '../shared/methods';
import type { PortentApi } from '../shared/contract';

// Exposes one named function per contract method and nothing else: the page never sees
// ipcRenderer, so it cannot send on channels the contract does not define.
const api = Object.fromEntries(
  METHOD_NAMES.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(channelOf(method), ...args)]),
) as PortentApi;

contextBridge.exposeInMainWorld('portent', api);

// The engine's events, pushed so the window need not poll. Only well-formed events are passed
// on, and the page gets a function to stop listening, never the IPC event itself.
contextBridge.exposeInMainWorld('portentEvents', {
  subscribe(listener: (event: EngineEvent) => void): () => void {
    const onEvent = (_event: unknown, data: unknown) => {
      if (isEngineEvent(data)) listener(data);
    };
    ipcRenderer.on(EVENT_CHANNEL, onEvent);
    return () => void ipcRenderer.off(EVENT_CHANNEL, onEvent);
  },
});
