/**
 * Tells the other tabs of this origin that the user logged in or out (BroadcastChannel; where it is
 * missing, tabs learn it on their next API call instead).
 */
export type SessionMessage = 'login' | 'logout';

const NAME = 'agentmon.session';
let channel: BroadcastChannel | null | undefined;

function open(): BroadcastChannel | null {
  if (channel === undefined) channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(NAME);
  return channel;
}

export function broadcast(msg: SessionMessage): void {
  open()?.postMessage(msg);
}

export function onBroadcast(handler: (msg: SessionMessage) => void): void {
  const ch = open();
  if (!ch) return;
  ch.onmessage = (e: MessageEvent) => {
    if (e.data === 'login' || e.data === 'logout') handler(e.data);
  };
}

export function clearBroadcastListeners(): void {
  if (channel) channel.onmessage = null;
}
