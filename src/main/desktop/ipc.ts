import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { channelOf, METHOD_NAMES, parseArgs, type Handlers } from '../../shared/contract';

/**
 * Registers one handler per contract method. Every call is checked twice before it runs: the
 * sender must be a frame Portent loaded itself, and the arguments must match the contract.
 */
export function registerIpcHandlers(handlers: Handlers, isTrustedSender: (event: IpcMainInvokeEvent) => boolean): void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channelOf(method), async (event, ...rawArgs: unknown[]) => {
      if (!isTrustedSender(event)) throw new Error(`Refused ${method}: the sender is not a Portent window`);
      const args = parseArgs(method, rawArgs);
      const handler = handlers[method] as (...a: unknown[]) => unknown;
      return handler(...(args as unknown[]));
    });
  }
}
