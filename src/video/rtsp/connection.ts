// Thin transport: one TCP or TLS socket carrying RTSP messages and interleaved data, decoded
// by RtspDecoder. A decoding error closes the socket (NVR-5.3.3.1a: drop, never crash).
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { VigilError } from '../../core/errors.ts';
import { RtspDecoder } from './decoder.ts';
import type { RtspLimits, RtspMessage } from './message.ts';

export interface RtspConnectionHandlers {
  onMessage(message: RtspMessage): void;
  onInterleaved(channel: number, payload: Buffer): void;
  /** Called once; `error` is undefined for an orderly close. */
  onClose(error: VigilError | undefined): void;
}

export class RtspConnection {
  readonly socket: Socket;
  readonly secure: boolean;
  private readonly decoder: RtspDecoder;
  private readonly handlers: RtspConnectionHandlers;
  private closeError: VigilError | undefined;
  private closed = false;

  constructor(socket: Socket, handlers: RtspConnectionHandlers, limits: Partial<RtspLimits> = {}) {
    this.socket = socket;
    this.secure = socket instanceof TLSSocket;
    this.handlers = handlers;
    this.decoder = new RtspDecoder({ onMessage: (m) => handlers.onMessage(m), onInterleaved: (c, p) => handlers.onInterleaved(c, p) }, limits);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      this.closeError ??= err instanceof VigilError ? err : new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP connection failed', { cause: err });
    });
    socket.on('close', () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued in the socket and not yet sent: the per-client queue the fan-out bounds. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  send(data: Uint8Array): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
  }

  /** Sends after a graceful end of the write side, then destroys the socket. */
  close(error?: VigilError): void {
    if (error !== undefined) this.closeError ??= error;
    if (this.closed) return;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.close(err instanceof VigilError ? err : new VigilError('VIGIL_RTSP_MALFORMED', 'RTSP input could not be processed', { cause: err }));
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(this.closeError);
  }
}
