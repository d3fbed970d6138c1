// Product identity (ACS-5.2.2.10: name, model, software version, supported transports).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const PRODUCT = {
  name: 'Vigil',
  model: 'Vigil VMS/ACS (software)',
  version: pkg.version,
  transports: ['HTTPS (TLS 1.2/1.3)', 'WSS'],
} as const;
