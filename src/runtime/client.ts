// Typed requests to the runtime: ids, exactly one reply per request, progress events, cancel. Knows no sockets.
import { randomUUID } from 'node:crypto';
import {
  OP_VOCABULARY,
  PROTOCOL_VERSION,
  REQUESTS,
  ReplyEnvelopeSchema,
  opVocabularyHash,
  type ProgressEvent,
  type RequestParams,
  type RequestResult,
  type RequestType,
} from './protocol.js';
import { hostname } from 'node:os';
import type { CurveClientKeys } from './curve-keys.js';
import { Transport } from './transport.js';
import { PACKAGE_VERSION } from '../version.js';
import { ProtocolMismatchError, RuntimeLostError, RuntimeRefusedError, RuntimeRequestError, RuntimeUnreachableError } from '../errors.js';

export interface RequestOptions {
  onProgress?: (event: ProgressEvent) => void;
  /** Give up after this long: send `cancel`, and fail the request with runtime.timeout. */
  timeoutMs?: number;
}

interface Pending {
  type: RequestType;
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (event: ProgressEvent) => void;
  timer?: NodeJS.Timeout;
}

export type HelloResult = RequestResult<'hello'>;

export interface ConnectOptions {
  /** Own the runtime for this connection (default); false only looks (runtime status, stop). */
  claim?: boolean;
  /** CURVE keys, for a runtime bound with --keys. */
  curve?: CurveClientKeys;
}

const DISCONNECT_GRACE_MS = 500;
/** While it owns a runtime the client speaks at least this often, so its lease never lapses while it lives. */
const KEEPALIVE_MS = 2_000;

export class RuntimeClient {
  private readonly pending = new Map<string, Pending>();
  private readonly transport: Transport;
  private lost: Error | undefined;
  private keepalive: NodeJS.Timeout | undefined;

  private constructor(
    readonly endpoint: string,
    curve?: CurveClientKeys,
  ) {
    this.transport = new Transport(endpoint, {
      onMessage: (m) => this.onMessage(m),
      onBadFrame: (e) => this.onBadFrame(e),
      // A dying private runtime drops the connection just before its exit is seen; waiting a moment
      // lets the exit (with its reason and stderr) be the error that is reported.
      onDisconnect: () => {
        const lost = new RuntimeLostError(
          `connection to the runtime at ${endpoint} dropped`, this.pendingNames(), '',
          'it was stopped (`mgdarts runtime stop --force`), killed or lost with its machine: `mgdarts runtime status` tells; a run continues with `mgdarts resume <run-dir>`',
        );
        setTimeout(() => this.failAll(lost), DISCONNECT_GRACE_MS).unref();
      },
      onRefused: (reason) => this.failAll(new RuntimeRefusedError(endpoint, reason, curve !== undefined)),
    }, curve);
  }

  /** Connect and shake hands; fails within `timeoutMs` when nothing answers. */
  static async connect(
    endpoint: string,
    timeoutMs = 10_000,
    /** Lets the caller fail the handshake early (e.g. the runtime process exited). */
    onClient?: (client: RuntimeClient) => void,
    options: ConnectOptions = {},
  ): Promise<{ client: RuntimeClient; hello: HelloResult }> {
    const client = new RuntimeClient(endpoint, options.curve);
    onClient?.(client);
    try {
      const claim = options.claim ?? true;
      const hello = await client.hello(timeoutMs, claim);
      if (claim) {
        client.keepalive = setInterval(() => void client.request('status', {}, { timeoutMs: KEEPALIVE_MS * 2 }).catch(() => undefined), KEEPALIVE_MS);
        client.keepalive.unref();
      }
      return { client, hello };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private async hello(timeoutMs: number, claim: boolean): Promise<HelloResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RuntimeUnreachableError(this.endpoint, timeoutMs / 1000)), timeoutMs);
    });
    const opHash = opVocabularyHash(OP_VOCABULARY);
    try {
      const hello = await Promise.race([
        this.request('hello', { protocol_version: PROTOCOL_VERSION, op_vocab_hash: opHash, client: `mgdarts ${PACKAGE_VERSION}, pid ${process.pid} on ${hostname()}`, claim }),
        timeout,
      ]);
      const [theirMajor] = hello.protocol_version.split('.');
      const [ourMajor] = PROTOCOL_VERSION.split('.');
      if (theirMajor !== ourMajor) {
        throw new ProtocolMismatchError(`runtime speaks protocol ${hello.protocol_version}, this CLI ${PROTOCOL_VERSION}`);
      }
      if (hello.op_vocab_hash !== opHash) {
        throw new ProtocolMismatchError(`runtime op vocabulary hash ${hello.op_vocab_hash} differs from this CLI's ${opHash}`);
      }
      return hello;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send one request and wait for its single reply. Params and result are validated by the protocol schemas. */
  async request<T extends RequestType>(type: T, params: RequestParams<T>, options: RequestOptions = {}): Promise<RequestResult<T>> {
    if (this.lost) throw this.lost;
    const spec = REQUESTS[type];
    const checked = spec.params.parse(params);
    const id = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { type, resolve, reject, onProgress: options.onProgress };
      if (options.timeoutMs !== undefined) entry.timer = setTimeout(() => this.timeOut(id), options.timeoutMs);
      this.pending.set(id, entry);
    });
    await this.transport.send({ id, type, params: checked });
    const result = await reply;
    return spec.result.parse(result) as RequestResult<T>;
  }

  /** Ids and types of requests still waiting, oldest first. */
  pendingNames(): string[] {
    return [...this.pending.entries()].map(([id, p]) => `${p.type} (${id.slice(0, 8)})`);
  }

  /** The runtime is gone (process exit or dropped connection): fail every pending request, now and later. */
  failAll(error: Error): void {
    clearInterval(this.keepalive);
    this.lost ??= error;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
  }

  close(): void {
    this.failAll(new RuntimeLostError('client closed', this.pendingNames()));
    this.transport.close();
  }

  private timeOut(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    void this.transport.send({ id: randomUUID(), type: 'cancel', params: { target: id } }).catch(() => undefined);
    p.reject(new RuntimeRequestError('runtime.timeout', 'no reply in time; cancel sent', p.type, 'TimeoutError', null));
  }

  private onMessage(message: unknown): void {
    const parsed = ReplyEnvelopeSchema.safeParse(message);
    if (!parsed.success) {
      this.onBadFrame(new Error(`reply does not match the protocol: ${parsed.error.message}`));
      return;
    }
    const reply = parsed.data;
    const p = this.pending.get(reply.id);
    if (!p) return; // a reply to a request we gave up on (timeout); nothing waits for it
    if (reply.kind === 'event') {
      p.onProgress?.(reply.event);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.kind === 'result') p.resolve(reply.result);
    else p.reject(new RuntimeRequestError(reply.error.code, reply.error.message, reply.type, reply.error.ename, reply.error.traceback));
  }

  private onBadFrame(error: Error): void {
    process.emitWarning(`mgdarts: dropped a message from the runtime: ${error.message}`);
  }
}
