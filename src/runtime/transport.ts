// Socket and frames: one DEALER socket, serialized sends, one reader loop. Knows no message types.
import * as zmq from 'zeromq';
import type { CurveClientKeys } from './curve-keys.js';
import { decodeFrames, encodeFrames, FrameError } from './frames.js';

export interface TransportHandlers {
  /** A decoded message from the runtime. */
  onMessage(message: unknown): void;
  /** A frame that could not be decoded; the transport keeps reading. */
  onBadFrame(error: FrameError): void;
  /** The connection to the peer dropped (the peer process died or closed its socket). */
  onDisconnect(): void;
  /** The peer refused the handshake (CURVE keys not accepted, or CURVE on one side only). */
  onRefused(reason: string): void;
}

export class Transport {
  private readonly socket: zmq.Dealer;
  private sending: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly endpoint: string,
    private readonly handlers: TransportHandlers,
    curve?: CurveClientKeys,
  ) {
    const keys = curve ? { curveServerKey: curve.serverPublicKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey } : {};
    this.socket = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, ipv6: endpoint.includes('['), ...keys });
    this.socket.events.on('disconnect', () => {
      if (!this.closed) this.handlers.onDisconnect();
    });
    for (const kind of ['handshake:error:auth', 'handshake:error:protocol', 'handshake:error:other'] as const) {
      this.socket.events.on(kind, (event) => {
        const why = (event as { error?: { message?: string } }).error?.message ?? 'handshake failed';
        if (!this.closed) this.handlers.onRefused(`${kind.slice('handshake:error:'.length)}: ${why}`);
      });
    }
    try {
      this.socket.connect(endpoint);
    } catch (err) {
      this.close();
      throw err;
    }
    void this.readLoop();
  }

  /** Queue a message; sends run one at a time because a zeromq socket allows one pending send. */
  send(message: unknown): Promise<void> {
    const frames = encodeFrames(message);
    const next = this.sending.then(() => this.socket.send(frames));
    this.sending = next.catch(() => undefined);
    return next;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        let message: unknown;
        try {
          message = decodeFrames(frames);
        } catch (err) {
          if (err instanceof FrameError) this.handlers.onBadFrame(err);
          else throw err;
          continue;
        }
        this.handlers.onMessage(message);
      }
    } catch (err) {
      // Closing the socket ends the iteration with an error; anything else is a real fault.
      if (!this.closed) throw err;
    }
  }
}
