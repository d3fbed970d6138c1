// Thin byte transports for OSDP: TCP (OSDP over IP, loopback or a serial server) and a pty / tty
// device (RS-485 adapters and `socat` pty pairs). The protocol core never sees these: it takes
// bytes in and gives bytes out. A serialport-backed transport (baud rate, parity) can implement
// the same interface later without touching the core.
import { openSync, closeSync, fstatSync, constants as fsConstants } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { isatty, ReadStream } from 'node:tty';
import { VigilError } from '../../core/errors.ts';

export interface OsdpTransport {
  /** For logs: an address or device path, never a secret. */
  readonly description: string;
  /** Queue bytes for the line; false when the line is closed or stuck (bytes not sent). */
  write(bytes: Buffer): boolean;
  setDataListener(listener: (chunk: Buffer) => void): void;
  /** Called once, when the line closes (with the error, if one closed it). */
  setCloseListener(listener: (error: Error | undefined) => void): void;
  close(): Promise<void>;
}

/** Bytes queued but not yet written before we call the line stuck (ACS-5.4.1.1). */
const MAX_WRITE_BACKLOG = 64 * 1024;

function transportError(message: string, cause?: unknown): VigilError {
  return new VigilError('VIGIL_OSDP_TRANSPORT', message, cause === undefined ? undefined : { cause });
}

/** Adapts a net.Socket (TCP, or a tty.ReadStream, which is one) to OsdpTransport. */
class SocketTransport implements OsdpTransport {
  readonly description: string;
  readonly #socket: Socket;
  #onData: (chunk: Buffer) => void = () => {};
  #onClose: (error: Error | undefined) => void = () => {};
  #error: Error | undefined;
  readonly #closed: Promise<void>;

  constructor(socket: Socket, description: string) {
    this.#socket = socket;
    this.description = description;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: Error) => {
      this.#error = transportError('OSDP line failed', error);
    });
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#onClose(this.#error);
        resolve();
      });
    });
  }

  write(bytes: Buffer): boolean {
    if (this.#socket.destroyed) return false;
    if (this.#socket.writableLength > MAX_WRITE_BACKLOG) {
      this.#socket.destroy(transportError('OSDP line not draining'));
      return false;
    }
    this.#socket.write(bytes);
    return true;
  }

  setDataListener(listener: (chunk: Buffer) => void): void {
    this.#onData = listener;
  }

  setCloseListener(listener: (error: Error | undefined) => void): void {
    this.#onClose = listener;
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return this.#closed;
  }
}

export interface TcpEndpoint {
  /** Defaults to 127.0.0.1: OSDP over IP is exposed only where the deployment says so. */
  readonly host?: string;
  readonly port: number;
  readonly connectTimeoutMs?: number;
}

export function connectOsdpTcp(endpoint: TcpEndpoint): Promise<OsdpTransport> {
  const host = endpoint.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: endpoint.port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(transportError('OSDP TCP connect timed out')), endpoint.connectTimeoutMs ?? 5000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(transportError('OSDP TCP connect failed', error));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(new SocketTransport(socket, `tcp:${host}:${endpoint.port}`));
    });
  });
}

export interface OsdpTcpListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Accept OSDP over TCP. One peer at a time: OSDP is a single master bus, so a second connection
 * while one is active is refused (closed at once), which also bounds resources.
 */
export function listenOsdpTcp(options: { host?: string; port?: number }, onTransport: (transport: OsdpTransport) => void): Promise<OsdpTcpListener> {
  const host = options.host ?? '127.0.0.1';
  let active: OsdpTransport | undefined;
  const server: Server = createServer((socket) => {
    if (active !== undefined) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const transport = new SocketTransport(socket, `tcp:${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
    active = transport;
    socket.once('close', () => {
      if (active === transport) active = undefined;
    });
    onTransport(transport);
  });
  server.maxConnections = 2;
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(transportError('OSDP TCP listen failed', error)));
    server.listen(options.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        close: async () => {
          const closing = new Promise<void>((done) => server.close(() => done()));
          await active?.close();
          await closing;
        },
      });
    });
  });
}

/** Open a tty or pty device (e.g. one end of a `socat` pty pair) in raw mode. */
export function openOsdpPty(path: string): OsdpTransport {
  if (!/^\/dev\/[A-Za-z0-9/_.-]+$/.test(path) || path.includes('..')) throw transportError('OSDP serial path must be a /dev device');
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
  } catch (error) {
    throw transportError('OSDP serial device cannot be opened', error);
  }
  if (!isatty(fd)) {
    closeSync(fd);
    throw transportError('OSDP serial path is not a terminal device');
  }
  const reopened = isLinuxPtySlave(fd);
  const stream = new ReadStream(fd);
  // libuv reopens a pty slave by name (to make it non-blocking) and works on its own descriptor;
  // the one we opened would leak, so it is closed here. Other ttys keep ours and libuv closes it.
  if (reopened) closeSync(fd);
  stream.setRawMode(true); // no line discipline: 0x0A, 0x0D, XON/XOFF pass through untouched
  return new SocketTransport(stream, `tty:${path}`);
}

/** Unix98 pty slaves (/dev/pts/N) have major numbers 136..143 on Linux (devices.txt). */
function isLinuxPtySlave(fd: number): boolean {
  if (process.platform !== 'linux') return false;
  const rdev = fstatSync(fd).rdev;
  const major = Math.floor(rdev / 256) & 0xfff;
  return major >= 136 && major <= 143;
}
