import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { channelOf, METHOD_NAMES, type Handlers } from '../../shared/contract';
import { ipcCall } from './ipcCall';

/**
 * Registers one handler per contract method. Every call is checked twice before it runs: the
 * sender must be a frame Portent loaded itself, and the arguments must match the contract
 * (ipcCall.ts, where both checks are tested without Electron).
 */
export function registerIpcHandlers(handlers: Handlers, isTrustedSender: (event: IpcMainInvokeEvent) => boolean): void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channelOf(method), (event, ...rawArgs: unknown[]) => ipcCall(handlers, method, isTrustedSender(event), rawArgs));
  }
}
