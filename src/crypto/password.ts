// Password hashing: PBKDF2-HMAC-SHA256 (NIST SP 800-132, FIPS-approved; ACS-5.3.1.1) with at
// least 600,000 iterations (OWASP 2023), a 16-byte random salt per hash and a 32-byte output.
// Encoded as 'pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>'.
//
// Hashing is deliberately expensive, so it is bounded (design §4): at most `workers` derivations
// run at once (crypto.pbkdf2 on the libuv pool, whose default size is 4: keep workers below
// UV_THREADPOOL_SIZE so file I/O is never starved), at most `queueLimit` wait, and the rest are
// refused at once with VIGIL_RATE_LIMITED: a login flood costs bounded CPU and memory.
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { VigilError } from '../core/errors.ts';

const pbkdf2Async = promisify(pbkdf2);

export const MIN_PBKDF2_ITERATIONS = 600_000;
/** Upper bound, also applied to iterations read from a stored hash (bounds the work it can ask). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Longer passwords are refused: PBKDF2 pre-hashes long keys, but bounding input bounds work. */
export const MAX_PASSWORD_BYTES = 1024;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCHEME = 'pbkdf2-sha256';
const MAX_WORKERS = 64;
const MAX_QUEUE = 100_000;

export interface PasswordHasherOptions {
  iterations: number;
  workers: number;
  queueLimit: number;
}

interface Waiter {
  start(): void;
  reject(err: unknown): void;
}

export class PasswordHasher {
  readonly #iterations: number;
  readonly #workers: number;
  readonly #queueLimit: number;
  #running = 0;
  readonly #waiting: Waiter[] = [];
  #closed = false;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  // verifyDummy compares against these, so unknown users cost one full derivation too.
  readonly #dummySalt = randomBytes(SALT_BYTES);
  readonly #dummyHash = randomBytes(HASH_BYTES);

  constructor(options: PasswordHasherOptions) {
    const { iterations, workers, queueLimit } = options;
    if (!Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
      throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `PBKDF2 iterations must be an integer from ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}`);
    }
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `password hash workers must be an integer from 1 to ${MAX_WORKERS}`);
    }
    if (!Number.isInteger(queueLimit) || queueLimit < 0 || queueLimit > MAX_QUEUE) {
      throw new VigilError('VIGIL_CRYPTO_BAD_INPUT', `password hash queue limit must be an integer from 0 to ${MAX_QUEUE}`);
    }
    this.#iterations = iterations;
    this.#workers = workers;
    this.#queueLimit = queueLimit;
  }

  /** Derivations running or waiting. */
  get pending(): number {
    return this.#running + this.#waiting.length;
  }

  async hash(password: string): Promise<string> {
    const secret = passwordBytes(password);
    const salt = randomBytes(SALT_BYTES);
    const derived = await this.#derive(secret, salt, this.#iterations);
    const encoded = `${SCHEME}$${this.#iterations}$${salt.toString('base64')}$${derived.toString('base64')}`;
    derived.fill(0);
    return encoded;
  }

  /** Constant-time comparison; uses the iterations recorded in `encoded`. */
  async verify(password: string, encoded: string): Promise<boolean> {
    const stored = parseEncoded(encoded);
    const secret = passwordBytes(password);
    const derived = await this.#derive(secret, stored.salt, stored.iterations);
    const equal = timingSafeEqual(derived, stored.hash);
    derived.fill(0);
    return equal;
  }

  /**
   * NVR-5.4.1.1b: for an unknown user, do the same work as verify() and answer false, so timing
   * does not tell which usernames exist.
   */
  async verifyDummy(password: string): Promise<false> {
    const secret = passwordBytes(password);
    const derived = await this.#derive(secret, this.#dummySalt, this.#iterations);
    timingSafeEqual(derived, this.#dummyHash);
    derived.fill(0);
    return false;
  }

  /** True when `encoded` was made with fewer iterations than this hasher uses: rehash at login. */
  needsRehash(encoded: string): boolean {
    return parseEncoded(encoded).iterations < this.#iterations;
  }

  /** Refuses new work, fails waiting requests, and resolves when running ones have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(closedError());
    if (this.#running === 0) return;
    this.#idle ??= Promise.withResolvers<void>();
    await this.#idle.promise;
  }

  async #derive(secret: Buffer, salt: Buffer, iterations: number): Promise<Buffer> {
    try {
      await this.#acquire();
      try {
        return await pbkdf2Async(secret, salt, iterations, HASH_BYTES, 'sha256');
      } finally {
        this.#release();
      }
    } finally {
      secret.fill(0);
    }
  }

  #acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#running < this.#workers) {
      this.#running += 1;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#queueLimit) {
      return Promise.reject(new VigilError('VIGIL_RATE_LIMITED', 'too many password checks in progress; try again shortly'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ start: resolve, reject });
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) {
      next.start(); // the slot passes straight to the next waiter
      return;
    }
    this.#running -= 1;
    if (this.#running === 0) this.#idle?.resolve();
  }
}

/**
 * UTF-8 of the NFKC-normalised password (NIST SP 800-63B §5.1.1.2), at most 1024 bytes.
 * The length is checked before normalising too, so normalisation work is bounded as well.
 */
function passwordBytes(password: string): Buffer {
  if (password.length > MAX_PASSWORD_BYTES) throw tooLong();
  const bytes = Buffer.from(password.normalize('NFKC'), 'utf8');
  if (bytes.length > MAX_PASSWORD_BYTES) {
    bytes.fill(0);
    throw tooLong();
  }
  return bytes;
}

function tooLong(): VigilError {
  return new VigilError('VIGIL_CRYPTO_BAD_INPUT', `a password is at most ${MAX_PASSWORD_BYTES} bytes`);
}

interface StoredHash {
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

const ENCODED = /^pbkdf2-sha256\$([1-9][0-9]{0,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function parseEncoded(encoded: string): StoredHash {
  const match = encoded.length <= 256 ? ENCODED.exec(encoded) : null;
  const [, iterationsText, saltText, hashText] = match ?? [];
  if (iterationsText === undefined || saltText === undefined || hashText === undefined) throw malformed();
  const iterations = Number(iterationsText);
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (iterations > MAX_PBKDF2_ITERATIONS || salt.length < SALT_BYTES || hash.length !== HASH_BYTES) throw malformed();
  return { iterations, salt, hash };
}

function malformed(): VigilError {
  return new VigilError('VIGIL_CRYPTO_BAD_INPUT', 'the stored password hash is not a valid pbkdf2-sha256 hash');
}

function closedError(): VigilError {
  return new VigilError('VIGIL_INTERNAL', 'the password hasher is shutting down');
}
