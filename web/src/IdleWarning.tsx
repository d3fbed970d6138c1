// Idle timeout with warning (NVR-5.4.3.1b). The server ends a session after idleTimeoutSeconds
// without requests, but the alarm polling keeps making requests; so the UI also measures the
// user's own activity (keys, pointer) and signs out itself, warning a minute before.
import { useEffect, useRef, useState, type ReactNode } from 'react';

const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;

export function IdleWarning({ idleTimeoutSeconds, onStay, onTimeout, onLogout }: {
  idleTimeoutSeconds: number;
  onStay: () => void;
  onTimeout: () => void;
  onLogout: () => void;
}): ReactNode {
  const lastActivity = useRef(Date.now());
  const [remaining, setRemaining] = useState<number | null>(null);
  const stayButton = useRef<HTMLButtonElement>(null);
  const warnBefore = Math.min(60, Math.floor(idleTimeoutSeconds / 4));

  useEffect(() => {
    const touch = (): void => { lastActivity.current = Date.now(); };
    for (const name of ACTIVITY_EVENTS) window.addEventListener(name, touch, { passive: true });
    const timer = setInterval(() => {
      const left = Math.ceil(idleTimeoutSeconds - (Date.now() - lastActivity.current) / 1000);
      if (left <= 0) {
        clearInterval(timer);
        onTimeout();
      } else setRemaining(left <= warnBefore ? left : null);
    }, 1000);
    return () => {
      clearInterval(timer);
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, touch);
    };
  }, [idleTimeoutSeconds, warnBefore, onTimeout]);

  const warning = remaining !== null;
  useEffect(() => {
    if (warning) stayButton.current?.focus();
  }, [warning]);

  if (remaining === null) return null;
  return (
    <div className="overlay">
      <div className="dialog" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-text">
        <h2 id="idle-title">Still there?</h2>
        <p id="idle-text">You will be signed out in <strong>{remaining}</strong> seconds because of inactivity.</p>
        <button type="button" ref={stayButton} onClick={() => { lastActivity.current = Date.now(); setRemaining(null); onStay(); }}>Stay signed in</button>{' '}
        <button type="button" className="secondary" onClick={onLogout}>Sign out</button>
      </div>
    </div>
  );
}
