// System information (ACS-5.2.2.10): product name, model, version and the transports used.
import { useEffect, useState, type ReactNode } from 'react';
import { api, formatTime, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle } from '../ui.tsx';
import { DiscoverySection } from './Discovery.tsx';

interface Info {
  name: string;
  model: string;
  version: string;
  deviceName: string;
  transports: string[];
  tls: { fingerprint256: string; selfSigned: boolean; notAfter: string };
}

export function SystemInfoPage(): ReactNode {
  const [info, setInfo] = useState<Info | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api<Info>('GET', '/api/v1/system/info')
      .then((i) => { if (live) setInfo(i); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  return (
    <section aria-labelledby="page-title">
      <PageTitle>System information</PageTitle>
      <ErrorMessage error={error} />
      {info === null ? (error === null ? <p role="status">Loading…</p> : null) : (
        <dl className="facts">
          <dt>Product</dt><dd data-testid="product-name">{info.name}</dd>
          <dt>Model</dt><dd>{info.model}</dd>
          <dt>Version</dt><dd data-testid="product-version">{info.version}</dd>
          <dt>Device name</dt><dd>{info.deviceName}</dd>
          <dt>Transports</dt><dd><ul>{info.transports.map((t) => <li key={t}>{t}</li>)}</ul></dd>
          <dt>TLS certificate (SHA-256)</dt><dd><code>{info.tls.fingerprint256}</code></dd>
          <dt>Certificate</dt><dd>{info.tls.selfSigned ? 'self-signed device certificate' : 'installed certificate'}, valid until {formatTime(info.tls.notAfter)}</dd>
        </dl>
      )}
      <DiscoverySection />
    </section>
  );
}
