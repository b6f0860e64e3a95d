import { header, type SipRequest, type SipResponse } from '../../wire/sipMessage.ts';
import { BRANCH_COOKIE, parseVia, splitList } from '../../wire/sipHeaders.ts';
import { tagOf } from './sipBuild.ts';
import type { SipPeer } from './SipSockets.ts';

/**
 * RFC 3261 §17 transactions. Timers (§17.1.1.1, Table 4): T1 is the RTT
 * estimate (500 ms), T2 the longest retransmit interval (4 s); a transaction
 * gives up after 64·T1. Tests shorten T1.
 */
export interface SipTimers {
  t1Ms: number;
  t2Ms: number;
}
export const DEFAULT_TIMERS: SipTimers = { t1Ms: 500, t2Ms: 4000 };

/** Server transactions kept at once; beyond, the oldest is forgotten (a flood cannot grow the map). */
const MAX_SERVER_TRANSACTIONS = 20_000;

/**
 * The key of a request's server transaction (§17.2.3): the top Via's branch
 * (with the magic cookie) and sent-by, and the method — ACK matching its
 * INVITE. An RFC 2543 peer's request (no cookie) is keyed by Call-ID, CSeq,
 * From tag and top Via instead.
 */
export function serverKey(req: SipRequest): string {
  const top = splitList(header(req.headers, 'via')!)[0]!;
  const via = parseVia(top);
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  const branch = via?.params.get('branch');
  if (via !== undefined && branch !== undefined && branch.startsWith(BRANCH_COOKIE)) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  return `2543|${req.callId}|${req.cseq}|${tagOf(header(req.headers, 'from'))}|${top}|${method}`;
}

interface ServerTxn {
  last: Buffer | undefined;
  lastStatus: number;
  to: SipPeer;
  timer: NodeJS.Timeout | undefined;
  expire: NodeJS.Timeout | undefined;
}

type Send = (to: SipPeer, buf: Buffer) => void;

/**
 * Server transactions: a retransmitted request gets the last response again
 * and goes no further (§17.2.1, §17.2.2); an INVITE's non-2xx final is
 * retransmitted on UDP (timer G, doubling to T2) until its ACK, which the
 * transaction absorbs, or timer H (64·T1). Transactions end after 64·T1
 * (timer J for non-INVITE; the 2xx is retransmitted by the dialog, §13.3.1.4).
 */
export class ServerTransactions {
  readonly #txns = new Map<string, ServerTxn>();
  readonly #send: Send;
  readonly #timers: SipTimers;

  constructor(send: Send, timers: SipTimers) {
    this.#send = send;
    this.#timers = timers;
  }

  get size(): number {
    return this.#txns.size;
  }

  /**
   * True when the request is a retransmission (answered again here) or an
   * ACK of a non-2xx final (absorbed); false for a new request, whose
   * transaction now exists.
   */
  absorb(req: SipRequest, from: SipPeer): boolean {
    const key = serverKey(req);
    const txn = this.#txns.get(key);
    if (req.method === 'ACK') {
      if (txn === undefined || txn.lastStatus < 300) return false;
      clearTimeout(txn.timer);
      txn.timer = undefined;
      return true;
    }
    if (txn !== undefined) {
      if (txn.last !== undefined) this.#send(txn.to, txn.last);
      return true;
    }
    if (this.#txns.size >= MAX_SERVER_TRANSACTIONS) this.#forget(this.#txns.keys().next().value!);
    const expire = setTimeout(() => this.#forget(key), 64 * this.#timers.t1Ms + 32_000);
    expire.unref();
    this.#txns.set(key, { last: undefined, lastStatus: 0, to: from, timer: undefined, expire });
    return false;
  }

  /** Sends a response in the request's transaction and keeps it for retransmissions. */
  respond(req: SipRequest, to: SipPeer, buf: Buffer, status: number): void {
    const key = serverKey(req);
    const txn = this.#txns.get(key);
    this.#send(to, buf);
    if (txn === undefined) return;
    txn.last = buf;
    txn.lastStatus = status;
    txn.to = to;
    if (req.method === 'INVITE' && status >= 300 && to.proto === 'UDP') {
      // Timer G: retransmit the final until the ACK; timer H ends it.
      let interval = this.#timers.t1Ms;
      const started = Date.now();
      const again = (): void => {
        if (Date.now() - started >= 64 * this.#timers.t1Ms) return;
        this.#send(txn.to, buf);
        interval = Math.min(2 * interval, this.#timers.t2Ms);
        txn.timer = setTimeout(again, interval);
        txn.timer.unref();
      };
      txn.timer = setTimeout(again, interval);
      txn.timer.unref();
    }
  }

  /** Whether an INVITE's transaction is still open (for CANCEL: §9.2). */
  lastStatus(req: SipRequest): number | undefined {
    return this.#txns.get(serverKey(req))?.lastStatus;
  }

  #forget(key: string): void {
    const txn = this.#txns.get(key);
    if (txn === undefined) return;
    clearTimeout(txn.timer);
    clearTimeout(txn.expire);
    this.#txns.delete(key);
  }

  close(): void {
    for (const key of [...this.#txns.keys()]) this.#forget(key);
  }
}

/**
 * A client transaction (§17.1): sends a request, retransmits it on UDP
 * (timer A/E from T1, doubling; INVITE without bound, others up to T2) until
 * a response, and times out after 64·T1 (timer B/F) with a synthetic 408.
 * Provisional responses stop an INVITE's retransmissions (§17.1.1.2).
 */
export class ClientTransaction {
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #done = false;

  constructor(
    readonly branch: string,
    readonly method: string,
    private readonly send: () => void,
    private readonly onResponse: (res: SipResponse | 'timeout') => void,
    reliable: boolean,
    timers: SipTimers,
    /** An INVITE's: sends the ACK of a non-2xx final, again for each retransmission of it (§17.1.1.3). */
    private readonly ackNon2xx?: (res: SipResponse) => void,
  ) {
    send();
    if (!reliable) {
      let interval = timers.t1Ms;
      const again = (): void => {
        this.send();
        interval = method === 'INVITE' ? 2 * interval : Math.min(2 * interval, timers.t2Ms);
        this.#timer = setTimeout(again, interval);
      };
      this.#timer = setTimeout(again, interval);
    }
    this.#deadline = setTimeout(() => this.#finish('timeout'), 64 * timers.t1Ms);
  }

  /** A response with this transaction's branch. */
  receive(res: SipResponse): void {
    // A retransmitted 2xx of an INVITE goes up again: the TU acknowledges each one (§13.2.2.4).
    if (this.#done) {
      if (this.method === 'INVITE' && res.status >= 200 && res.status < 300) this.onResponse(res);
      else if (res.status >= 300) this.ackNon2xx?.(res);
      return;
    }
    if (res.status >= 300) this.ackNon2xx?.(res);
    if (res.status < 200) {
      if (this.method === 'INVITE') clearTimeout(this.#timer);
      this.onResponse(res);
      return;
    }
    this.#finish(res);
  }

  get done(): boolean {
    return this.#done;
  }

  #finish(res: SipResponse | 'timeout'): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    this.onResponse(res);
  }

  cancel(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
  }
}
