// Small shared pieces: labelled fields, error and status messages, a page heading that takes
// focus when the page changes (so screen readers announce it).
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { messageOf } from './api.ts';

export function Field(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  autoComplete?: string;
  required?: boolean;
  autoFocus?: boolean;
  inputMode?: 'numeric' | 'text';
  pattern?: string;
  hint?: string;
  name?: string;
}): ReactNode {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        autoComplete={props.autoComplete}
        required={props.required ?? false}
        autoFocus={props.autoFocus ?? false}
        inputMode={props.inputMode}
        pattern={props.pattern}
        aria-describedby={props.hint === undefined ? undefined : hintId}
      />
      {props.hint === undefined ? null : <p className="hint" id={hintId}>{props.hint}</p>}
    </div>
  );
}

export function ErrorMessage({ error }: { error: string | null }): ReactNode {
  if (error === null) return null;
  return <p className="error" role="alert">{error}</p>;
}

export function Notice({ children }: { children: ReactNode }): ReactNode {
  return <p className="notice" role="status">{children}</p>;
}

export function PageTitle({ children }: { children: ReactNode }): ReactNode {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}

/** A centred card for the steps before the app (setup, login, password, enrolment). */
export function Card({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <main className="card" aria-labelledby="card-title">
      <p className="brand">Vigil</p>
      <h1 id="card-title" tabIndex={-1}>{title}</h1>
      {children}
    </main>
  );
}

/** A form's one action at a time: `run` marks it busy, clears the last error and shows a new one. */
export function useAction(): { busy: boolean; error: string | null; setError: (error: string | null) => void; run: (step: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (step: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await step();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
