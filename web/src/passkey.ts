// Passkeys in the browser (NVR-5.4.1.2a): the server's WebAuthn options arrive as JSON with
// base64url byte strings (W3C WebAuthn L3 §5.1.8, PublicKeyCredentialCreationOptionsJSON); the
// browser API wants ArrayBuffers and answers with them. This module does those conversions and
// nothing else (no library: ~100 lines are less to trust than a dependency), and turns the
// browser's DOMExceptions into sentences a user can act on. The server checks every field.

export interface CredentialDescriptorJson { id: string; type: string; transports?: string[] }

/** The part of PublicKeyCredentialCreationOptionsJSON (as @simplewebauthn/server sends it) used here. */
export interface CreationOptionsJson {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: Array<{ type: string; alg: number }>;
  timeout?: number;
  excludeCredentials?: CredentialDescriptorJson[];
  authenticatorSelection?: AuthenticatorSelectionCriteria;
  attestation?: AttestationConveyancePreference;
}

export interface RequestOptionsJson {
  challenge: string;
  rpId?: string;
  timeout?: number;
  allowCredentials?: CredentialDescriptorJson[];
  userVerification?: UserVerificationRequirement;
}

/** RegistrationResponseJSON / AuthenticationResponseJSON: what the server verifies. */
export interface CredentialJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: Record<string, string | string[]>;
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment?: string;
}

export function base64urlToBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function descriptors(list: CredentialDescriptorJson[] | undefined): PublicKeyCredentialDescriptor[] | undefined {
  return list?.map((c) => ({ type: 'public-key', id: base64urlToBytes(c.id), ...(c.transports === undefined ? {} : { transports: c.transports as AuthenticatorTransport[] }) }));
}

/** Is WebAuthn usable on this page at all? (Not on plain HTTP, not in very old browsers.) */
export function passkeysSupported(): boolean {
  return window.isSecureContext && typeof window.PublicKeyCredential === 'function' && navigator.credentials !== undefined;
}

/**
 * Browsers refuse WebAuthn when the page's host is not the relying-party ID or a subdomain of it
 * (an IP address never is): say so before asking, with the address that works.
 */
export function wrongHostFor(rpId: string | undefined): string | null {
  if (rpId === undefined) return null;
  const host = window.location.hostname;
  if (host === rpId || host.endsWith(`.${rpId}`)) return null;
  const port = window.location.port === '' ? '' : `:${window.location.port}`;
  return `Passkeys for this Vigil are bound to the name "${rpId}", but this page was opened as "${host}". Open https://${rpId}${port}/ and try again.`;
}

/** navigator.credentials.create with the server's options; the answer as JSON for the server. */
export async function createPasskey(options: CreationOptionsJson): Promise<CredentialJson> {
  const hostProblem = wrongHostFor(options.rp.id);
  if (hostProblem !== null) throw new PasskeyError(hostProblem);
  const publicKey: PublicKeyCredentialCreationOptions = {
    rp: options.rp,
    user: { id: base64urlToBytes(options.user.id), name: options.user.name, displayName: options.user.displayName },
    challenge: base64urlToBytes(options.challenge),
    pubKeyCredParams: options.pubKeyCredParams.map((p) => ({ type: 'public-key', alg: p.alg })),
  };
  if (options.timeout !== undefined) publicKey.timeout = options.timeout;
  const exclude = descriptors(options.excludeCredentials);
  if (exclude !== undefined) publicKey.excludeCredentials = exclude;
  if (options.authenticatorSelection !== undefined) publicKey.authenticatorSelection = options.authenticatorSelection;
  if (options.attestation !== undefined) publicKey.attestation = options.attestation;
  const credential = await browserCall(() => navigator.credentials.create({ publicKey }), 'create');
  const response = credential.response as AuthenticatorAttestationResponse;
  const json: CredentialJson = {
    id: credential.id,
    rawId: bytesToBase64url(credential.rawId),
    type: 'public-key',
    response: {
      clientDataJSON: bytesToBase64url(response.clientDataJSON),
      attestationObject: bytesToBase64url(response.attestationObject),
      transports: typeof response.getTransports === 'function' ? response.getTransports() : [],
    },
    clientExtensionResults: {},
  };
  if (credential.authenticatorAttachment !== null) json.authenticatorAttachment = credential.authenticatorAttachment;
  return json;
}

/** navigator.credentials.get with the server's options; the assertion as JSON for the server. */
export async function getPasskey(options: RequestOptionsJson): Promise<CredentialJson> {
  const hostProblem = wrongHostFor(options.rpId);
  if (hostProblem !== null) throw new PasskeyError(hostProblem);
  const publicKey: PublicKeyCredentialRequestOptions = { challenge: base64urlToBytes(options.challenge) };
  if (options.rpId !== undefined) publicKey.rpId = options.rpId;
  if (options.timeout !== undefined) publicKey.timeout = options.timeout;
  if (options.userVerification !== undefined) publicKey.userVerification = options.userVerification;
  const allow = descriptors(options.allowCredentials);
  if (allow !== undefined) publicKey.allowCredentials = allow;
  const credential = await browserCall(() => navigator.credentials.get({ publicKey }), 'get');
  const response = credential.response as AuthenticatorAssertionResponse;
  const fields: Record<string, string> = {
    clientDataJSON: bytesToBase64url(response.clientDataJSON),
    authenticatorData: bytesToBase64url(response.authenticatorData),
    signature: bytesToBase64url(response.signature),
  };
  if (response.userHandle !== null) fields.userHandle = bytesToBase64url(response.userHandle);
  const json: CredentialJson = { id: credential.id, rawId: bytesToBase64url(credential.rawId), type: 'public-key', response: fields, clientExtensionResults: {} };
  if (credential.authenticatorAttachment !== null) json.authenticatorAttachment = credential.authenticatorAttachment;
  return json;
}

/** A failure of the browser's side, already worded for the user. */
export class PasskeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasskeyError';
  }
}

async function browserCall(call: () => Promise<Credential | null>, kind: 'create' | 'get'): Promise<PublicKeyCredential> {
  if (!passkeysSupported()) throw new PasskeyError('This browser cannot use passkeys here (a current browser over HTTPS is needed).');
  let credential: Credential | null;
  try {
    credential = await call();
  } catch (err) {
    throw new PasskeyError(explain(err, kind));
  }
  if (!(credential instanceof PublicKeyCredential)) throw new PasskeyError('The browser returned no passkey. Try again.');
  return credential;
}

/**
 * The browser deliberately reports "cancelled", "timed out" and "this device holds no passkey for
 * the account" with one error (NotAllowedError, WebAuthn §14.5.2: no account probing), so the
 * message names all three.
 */
function explain(err: unknown, kind: 'create' | 'get'): string {
  const name = err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
      return kind === 'get'
        ? 'No passkey was used: the request was cancelled or timed out, or this device or security key holds no passkey for this account. Try again with the device you registered, or use another second factor.'
        : 'No passkey was created: the request was cancelled or timed out, or the device did not allow it. Try again.';
    case 'AbortError':
      return 'The passkey request was cancelled.';
    case 'InvalidStateError':
      return kind === 'create'
        ? 'This device or security key already holds a passkey for your account. Use another one, or keep the one you have.'
        : 'The passkey request could not start. Try again.';
    case 'SecurityError':
      return 'The browser refused passkeys for this address. Open Vigil by its host name over HTTPS and try again.';
    case 'NotSupportedError':
      return 'This device or security key does not support what Vigil asks for (a P-256, Ed25519 or RSA key).';
    default:
      return `The passkey request failed${err instanceof Error && err.message !== '' ? `: ${err.message}` : ''}.`;
  }
}
