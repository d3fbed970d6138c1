// The optional plain-HTTP listener (http.plainHttp = "redirect"): it answers every request with a
// 308 to the HTTPS origin and serves no content, so credentials never cross the network in clear
// (NVR-5.2.5.1a, CAM-5.2.5.1a). Off by default; declared in src/docs/services.ts.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

const MAX_PATH = 2048;

export interface RedirectListener {
  port: number;
  close(): Promise<void>;
}

export async function startRedirectListener(options: { host: string; port: number; httpsOrigin: string }): Promise<RedirectListener> {
  const server: Server = createServer({ maxHeaderSize: 8192, requestTimeout: 10_000, headersTimeout: 10_000 }, (request, response) => {
    // Only the path travels; the host always comes from our own configuration, never the request.
    const target = (request.url ?? '/').startsWith('/') ? (request.url ?? '/').slice(0, MAX_PATH) : '/';
    response.writeHead(308, { location: `${options.httpsOrigin}${target}`, 'content-length': '0', connection: 'close' });
    response.end();
  });
  server.keepAliveTimeout = 1_000;
  server.maxConnections = 256;
  server.listen({ host: options.host, port: options.port });
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
