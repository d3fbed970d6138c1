// Storage health (NVR-5.1.5.2a/b mirror and hot spare, NVR-5.2.8.1a free space against the
// configured threshold): the mirror verdict, and per volume its state and a free-space meter.
// <meter> draws the bar natively (no inline style under the CSP, no chart library).
import { useEffect, useState, type ReactNode } from 'react';
import { api, formatTime, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle } from '../ui.tsx';

interface Volume {
  id: string;
  path?: string;
  role: 'mirror' | 'spare';
  state: 'online' | 'spare' | 'rebuilding' | 'failed';
  inMirror: boolean;
  totalBytes: number | null;
  freeBytes: number | null;
  freePercent: number | null;
  lowSpace: boolean;
  reason: string | null;
  since: string;
  segments: number;
  segmentBytes: number;
}
interface Storage {
  mirror: { state: 'healthy' | 'rebuilding' | 'degraded' | 'failed'; redundant: boolean; copies: number; online: number; rebuilding: number; spares: number; failed: number };
  freeSpaceWarnPercent: number;
  healthCheckSeconds: number;
  volumes: Volume[];
}

const POLL_MS = 10_000;
const MIRROR_TEXT: Record<Storage['mirror']['state'], string> = {
  healthy: 'Healthy',
  rebuilding: 'Rebuilding onto a spare',
  degraded: 'Degraded: fewer copies than configured and no spare rebuilding',
  failed: 'Failed: no volume is recording',
};
const STATE_TEXT: Record<Volume['state'], string> = { online: 'OK (in mirror)', spare: 'Hot spare (standby)', rebuilding: 'Rebuilding', failed: 'Failed' };

export function bytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function StoragePage(): ReactNode {
  const [storage, setStorage] = useState<Storage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        const s = await api<Storage>('GET', '/api/v1/storage');
        if (live) { setStorage(s); setError(null); }
      } catch (err) {
        if (live) setError(messageOf(err));
      }
      if (live) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Storage</PageTitle>
      <ErrorMessage error={error} />
      {storage === null ? (error === null ? <p role="status">Loading…</p> : null) : (
        <>
          <dl className="facts">
            <dt>Mirror</dt>
            <dd data-testid="mirror-state" className={`mirror-${storage.mirror.state}`}>
              {MIRROR_TEXT[storage.mirror.state]}{storage.mirror.redundant ? '' : ' — no redundancy (fewer than two copies)'}
            </dd>
            <dt>Copies per segment</dt><dd>{storage.mirror.copies} configured, {storage.mirror.online} volume(s) in the mirror</dd>
            <dt>Hot spares</dt><dd>{storage.mirror.spares} waiting{storage.mirror.rebuilding > 0 ? `, ${storage.mirror.rebuilding} rebuilding` : ''}</dd>
            <dt>Free-space warning</dt><dd>below {storage.freeSpaceWarnPercent} % free (checked every {storage.healthCheckSeconds} s)</dd>
          </dl>
          <table className="volumes">
            <caption className="visually-hidden">Recording volumes</caption>
            <thead>
              <tr><th scope="col">Volume</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Free space</th><th scope="col">Recordings</th><th scope="col">Since</th></tr>
            </thead>
            <tbody>
              {storage.volumes.map((v) => (
                <tr key={v.id} data-volume={v.id} className={`volume-${v.state}${v.lowSpace ? ' low-space' : ''}`}>
                  <th scope="row">{v.id}{v.path === undefined ? null : <><br /><code>{v.path}</code></>}</th>
                  <td>{v.role}</td>
                  <td><span className="badge">{STATE_TEXT[v.state]}</span>{v.reason === null ? null : <><br /><small>{v.reason}</small></>}</td>
                  <td>
                    {v.freePercent === null ? '—' : (
                      <>
                        <meter
                          min={0}
                          max={100}
                          low={storage.freeSpaceWarnPercent}
                          optimum={100}
                          value={v.freePercent}
                          aria-label={`Free space on ${v.id}`}
                        >{v.freePercent.toFixed(1)} %</meter>
                        <br />
                        <span data-testid={`free-${v.id}`}>{v.freePercent.toFixed(1)} % free</span> · {bytes(v.freeBytes)} of {bytes(v.totalBytes)}
                        {v.lowSpace ? <><br /><strong className="error">Below the {storage.freeSpaceWarnPercent} % threshold</strong></> : null}
                      </>
                    )}
                  </td>
                  <td>{v.segments} segment(s), {bytes(v.segmentBytes)}</td>
                  <td>{formatTime(v.since)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
