// "Verify evidence": an evidence bundle chosen from disk is checked in this browser with the same
// code as `vigil verify` (src/video/export/evidence-verify.ts, WebCrypto only) — nothing is
// uploaded, no session is needed (NVR-5.2.8.1b). A verified clip can be played here.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { verifyEvidence, type EvidenceVerification } from '../../../src/video/export/evidence-verify.ts';
import { messageOf } from '../api.ts';
import { ErrorMessage, Field } from '../ui.tsx';

async function fileText(input: File | null): Promise<string | undefined> {
  return input === null ? undefined : input.text();
}

export function VerifyEvidence(): ReactNode {
  const [bundle, setBundle] = useState<File | null>(null);
  const [keyFile, setKeyFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [needsPassword, setNeedsPassword] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<EvidenceVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [clip, setClip] = useState<{ name: string; url: string } | null>(null);

  useEffect(() => () => { if (clip !== null) URL.revokeObjectURL(clip.url); }, [clip]);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    if (bundle === null) return;
    setBusy(true);
    setError(null);
    setResult(null);
    setClip(null);
    try {
      const trusted = await fileText(keyFile);
      const r = await verifyEvidence(new Uint8Array(await bundle.arrayBuffer()), {
        ...(password === '' ? {} : { password }),
        ...(trusted === undefined ? {} : { trustedPublicKeyPem: trusted }),
      });
      setNeedsPassword(r.encrypted);
      setResult(r.needsPassword ? null : r);
      if (r.needsPassword) setError('This bundle is encrypted: enter its password and verify again.');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  function play(name: string, bytes: Uint8Array): void {
    setClip({ name, url: URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'video/mp4' })) });
  }

  const m = result?.manifest ?? null;
  return (
    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Verify an evidence bundle</h2>
      <p>The file is checked in this browser; nothing is uploaded.</p>
      <form onSubmit={(e) => void submit(e)} aria-label="Verify evidence">
        <div className="field">
          <label htmlFor="bundle-file">Evidence bundle (.zip or .vigilenc)</label>
          <input id="bundle-file" type="file" accept=".zip,.vigilenc,application/zip,application/octet-stream" onChange={(e) => { setBundle(e.target.files?.[0] ?? null); setNeedsPassword(false); setPassword(''); }} required />
        </div>
        <div className="field">
          <label htmlFor="key-file">Device signing key (PEM, optional)</label>
          <input id="key-file" type="file" accept=".pem,application/x-pem-file,text/plain" onChange={(e) => setKeyFile(e.target.files?.[0] ?? null)} aria-describedby="key-hint" />
          <p className="hint" id="key-hint">From the device administrator: proves which device signed the bundle.</p>
        </div>
        {needsPassword ? <Field label="Bundle password" type="password" value={password} onChange={setPassword} autoComplete="off" required /> : null}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || bundle === null}>{busy ? 'Verifying…' : 'Verify'}</button>
      </form>
      {result === null ? null : (
        <div className="verification" data-testid="verification">
          {result.ok ? (
            <p className="notice" role="status" data-testid="verify-verdict">
              Verified: {result.checkedFiles} files and {result.checkedSegments} recorded segments are intact, signed by device key {result.keyId}.
              {result.pinned === 'match' ? ' The key is the trusted device key.' : ' The key was not checked against a trusted device key.'}
            </p>
          ) : (
            <div role="alert">
              <p className="error" data-testid="verify-verdict">Verification FAILED: {result.problems.length} problem(s).</p>
              <ul>
                {result.problems.map((p, i) => <li key={i}><code>{p.file}</code>: {p.message}</li>)}
              </ul>
            </div>
          )}
          {m === null ? null : (
            <dl>
              <dt>Camera</dt><dd>{m.camera.name} ({m.camera.id})</dd>
              <dt>Range</dt><dd>{m.requested.from} → {m.requested.to}</dd>
              <dt>Exported</dt><dd>{m.exportedAt} by {m.exportedBy}</dd>
              <dt>Reason</dt><dd>{m.reason ?? '—'}</dd>
              <dt>Device</dt><dd>{m.device.name} · {m.device.product} {m.device.version}</dd>
            </dl>
          )}
          {result.ok && m !== null ? (
            <ul>
              {m.files.filter((f) => f.path.startsWith('clips/')).map((f) => (
                <li key={f.path}>
                  <code>{f.path}</code> {f.startedAt ?? ''} → {f.endedAt ?? ''}{' '}
                  <button type="button" className="secondary" onClick={() => play(f.path, result.entries[f.path] as Uint8Array)}>Play {f.path}</button>
                </li>
              ))}
            </ul>
          ) : null}
          {clip === null ? null : <video key={clip.url} className="player" src={clip.url} controls muted playsInline aria-label={`Verified clip ${clip.name}`} />}
        </div>
      )}
    </section>
  );
}
