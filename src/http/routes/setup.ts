// First-run setup (NVR-5.4.2.1b, ACS-5.1.1.1): no default account ever. Until the first
// administrator exists, these are the only routes that answer; the token was printed on the
// console of the machine at start.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { Password, Username, requestContext } from './common.ts';

const SetupBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), username: Username, password: Password },
  { additionalProperties: false },
);

export async function setupRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  app.get('/api/v1/setup', {
    config: { access: access.setup() },
    schema: { response: { 200: Type.Object({ setupRequired: Type.Boolean() }) } },
  }, async () => ({ setupRequired: await services.identity.setupRequired() }));

  app.post<{ Body: Static<typeof SetupBody> }>('/api/v1/setup', {
    config: { access: access.setup(), rateLimit: { max: config.security.authRateLimitPerMinute, timeWindow: 60_000 } },
    schema: { body: SetupBody, response: { 201: Type.Object({ username: Type.String() }), '4xx': ErrorBody, '5xx': ErrorBody } },
  }, async (request, reply) => {
    const { token, username, password } = request.body;
    const user = await services.identity.completeSetup(token, { username, password }, requestContext(request));
    return reply.status(201).send({ username: user.username });
  });
}
