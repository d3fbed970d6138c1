// The Fastify application: every plugin and route module registered in this one visible place.
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import type { Logger } from '../core/logger.ts';
import type { Config } from '../core/config.ts';
import { installAccessGate, requireRouteDeclarations } from './access.ts';
import { installErrorHandling } from './errors.ts';
import type { AppServices } from './services.ts';
import { setupRoutes } from './routes/setup.ts';
import { authRoutes } from './routes/auth.ts';
import { userRoutes } from './routes/users.ts';
import { cameraRoutes } from './routes/cameras.ts';
import { cameraOnvifRoutes } from './routes/cameras-onvif.ts';
import { accessRoutes } from './routes/access.ts';
import { auditRoutes } from './routes/audit.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { deviceRoutes } from './routes/devices.ts';
import { discoveryRoutes } from './routes/discovery.ts';
import { storageRoutes } from './routes/storage.ts';
import { systemRoutes } from './routes/system.ts';
import { LIVE_MAX_CLIENT_MESSAGE, liveRoutes } from './routes/live.ts';
import { onvifRoutes } from './routes/onvif.ts';
import { webUiRoutes } from './web.ts';

export interface BuildAppOptions {
  config: Config;
  logger: Logger;
  services: AppServices;
  /** HTTPS options (TLS profile applied); omitted only by tests that inject requests. */
  https?: import('node:tls').TlsOptions;
  /** Extra route modules (tests use this to prove an undeclared route stops start-up). */
  extraRoutes?: ReadonlyArray<(app: FastifyInstance) => Promise<void>>;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, services } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    ...(options.https === undefined ? {} : { https: options.https }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    // Hard bounds against slow or oversized clients (ACS-5.4.1.1).
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Query strings are text: coerce them to the declared types, then validate bounds.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }) as unknown as FastifyInstance;

  requireRouteDeclarations(app);
  installErrorHandling(app);

  await app.register(fastifyHelmet, {
    // Strict CSP: no inline script or style, nothing from elsewhere (NVR-5.2.5.1a, ACS-5.1.2.1).
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: [],
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: true,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: LIVE_MAX_CLIENT_MESSAGE } });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Vigil API', version: services.product.version, description: 'Vigil HTTPS API. Every route requires authentication unless marked otherwise.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-vigil_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });

  installAccessGate(app, { auth: services.identity, audit: services.audit });
  app.addHook('onSend', async (_request, reply, payload) => {
    // API answers are never cached by browsers or proxies.
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store');
    return payload;
  });

  const routeOptions = { services, config };
  await app.register(setupRoutes, routeOptions);
  await app.register(authRoutes, routeOptions);
  await app.register(userRoutes, routeOptions);
  await app.register(auditRoutes, routeOptions);
  await app.register(alarmRoutes, routeOptions);
  await app.register(cameraRoutes, routeOptions);
  await app.register(cameraOnvifRoutes, routeOptions);
  await app.register(liveRoutes, routeOptions);
  await app.register(accessRoutes, routeOptions);
  await app.register(systemRoutes, routeOptions);
  await app.register(discoveryRoutes, routeOptions);
  await app.register(deviceRoutes, routeOptions);
  await app.register(storageRoutes, routeOptions);
  if (services.camera !== undefined) await app.register(onvifRoutes(services.camera), routeOptions);
  await app.register(webUiRoutes, routeOptions);
  for (const extra of options.extraRoutes ?? []) await app.register(extra);
  await app.ready();
  return app;
}
