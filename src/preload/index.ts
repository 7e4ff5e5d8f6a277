import { contextBridge, ipcRenderer } from 'electron';
import { channelOf, METHOD_NAMES } from '../shared/methods';
import type { PortentApi } from '../shared/contract';

// Exposes one named function per contract method and nothing else: the page never sees
// ipcRenderer, so it cannot send on channels the contract does not define.
const api = Object.fromEntries(
  METHOD_NAMES.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(channelOf(method), ...args)]),
) as PortentApi;

contextBridge.exposeInMainWorld('portent', api);
