import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { messageOf } from './api';

export function ErrorText({ error, testId = 'error' }: { error: unknown; testId?: string }) {
  if (error === null || error === undefined) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {messageOf(error)}
    </p>
  );
}

export function Modal({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} data-testid={testId}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

export function CopyButton({ text, testId }: { text: string; testId?: string }) {
  const [copied, setCopied] = useState<'idle' | 'done' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('done');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <button type="button" className="secondary" data-testid={testId} onClick={() => void copy()}>
      {copied === 'done' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the text' : 'Copy'}
    </button>
  );
}

export function DownloadButton({ text, filename, label, testId }: { text: string; filename: string; label: string; testId?: string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };
  return (
    <button type="button" className="secondary" data-testid={testId} onClick={download}>
      {label}
    </button>
  );
}

/** A secret shown exactly once, with a warning. */
export function OnceBox({
  label,
  value,
  testId,
  onDone,
  why = 'Herald keeps only a hash.',
}: {
  label: string;
  value: string;
  testId: string;
  onDone?: () => void;
  /** Why it cannot be shown again. */
  why?: string;
}) {
  return (
    <div className="once" data-testid={testId}>
      <p className="warning">
        Copy this {label} now. It will not be shown again: {why}
      </p>
      <pre className="secret" data-testid={`${testId}-value`}>
        {value}
      </pre>
      <div className="row">
        <CopyButton text={value} testId={`${testId}-copy`} />
        {onDone && (
          <button type="button" data-testid={`${testId}-done`} onClick={onDone}>
            I have stored it
          </button>
        )}
      </div>
    </div>
  );
}

/** Loads data on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const stableLoad = useCallback(load, deps);
  useEffect(() => {
    let isCurrent = true;
    setLoading(true);
    stableLoad().then(
      (value) => {
        if (!isCurrent) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!isCurrent) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [stableLoad, tick]);
  return { data, error, loading, reload: () => setTick((n) => n + 1) };
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}
