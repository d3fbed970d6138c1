// Keeps one camera stream connected: RtspClient sessions restarted with the ReconnectPolicy
// (capped exponential backoff + jitter) until stop(). The recorder hooks onDisconnected to
// raise its signal-loss alarm (NVR-5.1.2.1a).
import { VigilError } from '../../core/errors.ts';
import { RtspClient, type RtspClientOptions } from './client.ts';
import { ReconnectPolicy } from './reconnect.ts';

export interface RtspSupervisorHooks {
  onConnected?(client: RtspClient): void;
  onDisconnected?(error: VigilError, retryInMs: number): void;
}

export class RtspStreamSupervisor {
  private readonly options: RtspClientOptions;
  private readonly policy: ReconnectPolicy;
  private readonly hooks: RtspSupervisorHooks;
  private client: RtspClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(options: RtspClientOptions, policy: ReconnectPolicy = new ReconnectPolicy(), hooks: RtspSupervisorHooks = {}) {
    this.options = options;
    this.policy = policy;
    this.hooks = hooks;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
    await this.client?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let error: VigilError;
      try {
        const client = await RtspClient.connect(this.options);
        if (!this.running) {
          await client.close();
          return;
        }
        this.client = client;
        this.policy.reset();
        this.hooks.onConnected?.(client);
        error = (await client.closed) ?? new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP session ended');
        this.client = undefined;
      } catch (err) {
        error = err instanceof VigilError ? err : new VigilError('VIGIL_RTSP_CLOSED', 'the RTSP session failed', { cause: err });
      }
      if (!this.running) return;
      const delay = this.policy.nextDelayMs();
      this.hooks.onDisconnected?.(error, delay);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
    }
  }
}
