// The one import point of @peculiar/x509 (certificate generation, design §3). Version 2 needs a
// Reflect metadata polyfill loaded before it (its README, "Reflect Polyfill Required"); ESM
// evaluates imports in order, so importing x509 from here guarantees that.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

export { x509 };

/** Node's WebCrypto, passed explicitly to x509 calls instead of mutating its global provider. */
export const webCrypto: webcrypto.Crypto = webcrypto;
