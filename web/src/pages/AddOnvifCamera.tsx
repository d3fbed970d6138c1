// Adding a camera by ONVIF with TLS trust on first use (CAM-T-auth-2/3): 1. the address → the
// camera's certificate fingerprint, to compare with the one the camera shows (a Vigil camera:
// System → device certificate); nothing is sent to the camera before the admin confirms it.
// 2. the credentials → what the camera offers, over a connection pinned to that certificate;
// a stream server with another certificate, or plain RTSP only, needs its own explicit consent.
// 3. add. The server re-checks the certificate at every step and audits each.
import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorMessage, Field, useAction } from '../ui.tsx';

interface Certificate { fingerprint256: string; subject: string; issuer: string; validFrom: string; validTo: string; selfSigned: boolean; pinnable: boolean }
interface Probe { deviceUrl: string; certificate: Certificate }
interface Inspect {
  device: { manufacturer: string; model: string; firmwareVersion: string; serialNumber: string };
  profiles: Array<{ token: string; name: string; encoding: string; width: number | null; height: number | null }>;
  profileToken: string;
  stream: { url: string; secure: boolean; certificate: Certificate | null; sameCertificateAsDevice: boolean };
}

function CertificateFacts({ certificate, label }: { certificate: Certificate; label: string }): ReactNode {
  return (
    <dl aria-label={label}>
      <dt>SHA-256 fingerprint</dt><dd><code data-testid="fingerprint" style={{ wordBreak: 'break-all' }}>{certificate.fingerprint256}</code></dd>
      <dt>Subject</dt><dd>{certificate.subject}{certificate.selfSigned ? ' (self-signed)' : ''}</dd>
      <dt>Valid</dt><dd>{certificate.validFrom} to {certificate.validTo}</dd>
    </dl>
  );
}

export function AddOnvifCamera({ onAdded, onCancel }: { onAdded: () => void; onCancel: () => void }): ReactNode {
  const [address, setAddress] = useState('');
  const [probe, setProbe] = useState<Probe | null>(null);
  const [trusted, setTrusted] = useState(false);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [inspect, setInspect] = useState<Inspect | null>(null);
  const [streamTrusted, setStreamTrusted] = useState(false);
  const [unencrypted, setUnencrypted] = useState(false);
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();

  const readCertificate = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => {
      setInspect(null);
      setTrusted(false);
      setProbe(await api<Probe>('POST', '/api/v1/cameras/onvif/probe', { address }));
    });
  };

  const credentials = (): { address: string; fingerprint256: string; username: string; password: string } =>
    ({ address, fingerprint256: probe?.certificate.fingerprint256 ?? '', username, password });

  const connect = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => {
      const result = await api<Inspect>('POST', '/api/v1/cameras/onvif/inspect', credentials());
      setInspect(result);
      setStreamTrusted(false);
      setUnencrypted(false);
      if (name === '') setName(`${result.device.model || 'Camera'} ${new URL(result.stream.url).hostname}`.replace(/[^\p{L}\p{N} ._-]/gu, '-').slice(0, 64));
    });
  };

  const add = (e: FormEvent): void => {
    e.preventDefault();
    if (inspect === null) return;
    const stream = inspect.stream;
    void run(async () => {
      await api('POST', '/api/v1/cameras/onvif', {
        ...credentials(),
        name,
        profileToken: inspect.profileToken,
        ...(stream.certificate !== null && !stream.sameCertificateAsDevice ? { streamFingerprint256: stream.certificate.fingerprint256 } : {}),
        ...(stream.secure ? {} : { acceptUnencrypted: unencrypted }),
      });
      setPassword('');
      onAdded();
    });
  };

  const stream = inspect?.stream;
  const canAdd = stream !== undefined && (stream.secure ? stream.sameCertificateAsDevice || streamTrusted : unencrypted) && name !== '';
  return (
    <section aria-labelledby="onvif-title">
      <h2 id="onvif-title">Add a camera by ONVIF</h2>
      <ErrorMessage error={error} />
      <form onSubmit={readCertificate}>
        <Field label="ONVIF address" value={address} onChange={(v) => { setAddress(v); setProbe(null); setInspect(null); }} required hint="https://host:port or host[:port]" />
        <button type="submit" disabled={busy || address === ''}>Read certificate</button>{' '}
        <button type="button" onClick={onCancel}>Cancel</button>
      </form>
      {probe !== null ? (
        <div>
          <p>{probe.deviceUrl} presents this certificate. Compare the fingerprint, character by character, with the one the camera shows. Nothing has been sent to the camera.</p>
          <CertificateFacts certificate={probe.certificate} label="Camera certificate" />
          {probe.certificate.pinnable ? null : <p role="alert">This certificate cannot be pinned (its chain does not end in a self-signed certificate); add the camera with its CA certificate instead.</p>}
          <label><input type="checkbox" checked={trusted} onChange={(e) => setTrusted(e.target.checked)} disabled={!probe.certificate.pinnable} /> The fingerprint is identical to the one the camera shows: trust this certificate for this camera</label>
          {trusted ? (
            <form onSubmit={connect}>
              <Field label="Camera username" value={username} onChange={setUsername} autoComplete="off" required />
              <Field label="Camera password" type="password" value={password} onChange={setPassword} autoComplete="new-password" required />
              <button type="submit" disabled={busy || username === '' || password === ''}>Connect</button>
            </form>
          ) : null}
        </div>
      ) : null}
      {inspect !== null && stream !== undefined ? (
        <form onSubmit={add}>
          <p>{inspect.device.manufacturer} {inspect.device.model} (firmware {inspect.device.firmwareVersion}), profile {inspect.profileToken}: {inspect.profiles.find((p) => p.token === inspect.profileToken)?.encoding} {inspect.profiles.find((p) => p.token === inspect.profileToken)?.width}×{inspect.profiles.find((p) => p.token === inspect.profileToken)?.height}</p>
          <p>Stream: <code>{stream.url}</code></p>
          {stream.certificate !== null && stream.sameCertificateAsDevice ? <p>The stream server presents the same certificate: it will be pinned.</p> : null}
          {stream.certificate !== null && !stream.sameCertificateAsDevice ? (
            <div>
              <p role="alert">The stream server presents another certificate than the camera. Compare it with the camera too.</p>
              <CertificateFacts certificate={stream.certificate} label="Stream certificate" />
              <label><input type="checkbox" checked={streamTrusted} onChange={(e) => setStreamTrusted(e.target.checked)} /> Trust this stream certificate too</label>
            </div>
          ) : null}
          {!stream.secure ? (
            <div>
              <p role="alert">This camera offers plain RTSP only: its video and RTSP credentials would cross the network unencrypted.</p>
              <label><input type="checkbox" checked={unencrypted} onChange={(e) => setUnencrypted(e.target.checked)} /> I accept unencrypted video for this camera</label>
            </div>
          ) : null}
          <Field label="Camera name" value={name} onChange={setName} required />
          <button type="submit" disabled={busy || !canAdd}>Add camera</button>
        </form>
      ) : null}
    </section>
  );
}
