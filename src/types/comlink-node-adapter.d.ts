/** Types for comlink's Node adapter, whose shipped .d.ts does not sit beside the .mjs. */
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches node:events listeners
    on(type: string, listener: (...args: any[]) => void): unknown;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    off(type: string, listener: (...args: any[]) => void): unknown;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
