import { invokeMethod, type Handlers, type MethodName } from '../../shared/contract';

/**
 * One IPC call from a window: refused unless the sender is trusted, then validated against the
 * contract before its handler runs. Pure of Electron, so every channel is tested without it.
 */
export function ipcCall(handlers: Handlers, method: MethodName, trustedSender: boolean, rawArgs: unknown[]): Promise<unknown> {
  if (!trustedSender) return Promise.reject(new Error(`Refused ${method}: the sender is not a Portent window`));
  return invokeMethod(handlers, method, rawArgs);
}
