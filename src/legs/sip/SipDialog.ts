import { parseNameAddr, parseSipUri } from '../../wire/sipHeaders.ts';
import type { SipResponse } from '../../wire/sipMessage.ts';
import { newBranch, type RequestParts } from './sipBuild.ts';
import type { SipPeer, SipProto } from './SipSockets.ts';
import type { ClientTransaction } from './transactions.ts';

/** What a call's dialog needs of the stack: our address per transport and a way to send a request in a client transaction. */
export interface SipCore {
  local(proto: SipProto): RequestParts['local'];
  request(to: SipPeer, parts: Omit<RequestParts, 'local' | 'branch'>, onResponse: (res: SipResponse | 'timeout') => void, branch?: string): ClientTransaction;
  /** Sends a message outside any transaction (the ACK of a 2xx: §13.2.2.4). */
  sendRaw(to: SipPeer, parts: Omit<RequestParts, 'local'>): void;
}

/**
 * A dialog (RFC 3261 §12): Call-ID and both tags, the remote target (the
 * peer's Contact) and the route set (Record-Route, reversed for the UAC:
 * §12.1.2), and our CSeq, which grows by one per request we send (§12.2.1.1).
 * In-dialog requests go to the first route, else the remote target, over the
 * dialog's transport (the stream it came on when still open).
 */
export class SipDialog {
  localCseq: number;
  remoteCseq = -1;
  remoteTag: string | undefined;

  constructor(
    readonly callId: string,
    readonly localTag: string,
    /** Our From (UAC) or To (UAS) value, with our tag. */
    readonly localUri: string,
    /** The peer's, with its tag once known. */
    public remoteUri: string,
    public remoteTarget: string,
    public routes: string[],
    public peer: SipPeer,
    localCseq = 1,
  ) {
    this.localCseq = localCseq;
  }

  /** Where a request in the dialog goes: the first route's host, else the remote target's; the dialog's stream when open. */
  destination(): SipPeer {
    const first = this.routes[0];
    const uri = parseSipUri(first !== undefined ? (parseNameAddr(first)?.uri ?? '') : this.remoteTarget);
    if (uri === undefined) return this.peer;
    if (this.peer.proto !== 'UDP' && this.peer.conn !== undefined && !this.peer.conn.destroyed) return this.peer;
    return { proto: this.peer.proto, address: uri.host, port: uri.port ?? 5060 };
  }

  /** A request in the dialog (§12.2.1.1): the remote target as Request-URI, the route set as Route. */
  send(core: SipCore, method: string, onResponse: (res: SipResponse | 'timeout') => void, extra: Partial<RequestParts> = {}): ClientTransaction {
    const cseq = method === 'ACK' || method === 'CANCEL' ? this.localCseq : ++this.localCseq;
    return core.request(
      this.destination(),
      { method, uri: this.remoteTarget, from: this.localUri, to: this.remoteUri, callId: this.callId, cseq, routes: this.routes, contact: true, ...extra },
      onResponse,
    );
  }

  /** The ACK of a 2xx (§13.2.2.4): its own branch, the INVITE's CSeq number, sent outside any transaction. */
  ack(core: SipCore, cseq: number): void {
    core.sendRaw(this.destination(), {
      method: 'ACK', uri: this.remoteTarget, from: this.localUri, to: this.remoteUri, callId: this.callId, cseq, routes: this.routes, branch: newBranch(),
    });
  }

  /** The peer's Contact URI from a header value, when it parses. */
  static targetOf(contact: string | undefined): string | undefined {
    return contact === undefined ? undefined : parseNameAddr(contact)?.uri;
  }
}
