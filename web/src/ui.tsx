import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
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

export interface Page<T> {
  entries: T[];
  next: string | null;
}

/**
 * A list the API returns newest first in pages with a `next` cursor: the first page on mount and
 * whenever `deps` change (or `reload`), older pages appended by `loadOlder`. An answer to a
 * request made before the last change of `deps` is dropped.
 */
export function usePagedLoad<T>(
  fetchPage: (before: string | null) => Promise<Page<T>>,
  deps: unknown[],
): { entries: T[] | null; next: string | null; isLoading: boolean; error: unknown; loadOlder: () => void; reload: () => void } {
  const [entries, setEntries] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [isLoading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const generation = useRef(0);
  const stableFetch = useCallback(fetchPage, deps);

  const load = useCallback(
    async (before: string | null) => {
      const current = generation.current;
      setError(null);
      setLoading(true);
      try {
        const page = await stableFetch(before);
        if (current !== generation.current) return;
        setEntries((shown) => (before && shown ? [...shown, ...page.entries] : page.entries));
        setNext(page.next);
      } catch (failure) {
        if (current === generation.current) setError(failure);
      }
      if (current === generation.current) setLoading(false);
    },
    [stableFetch],
  );

  useEffect(() => {
    generation.current += 1;
    setEntries(null);
    void load(null);
  }, [load, reloads]);

  return {
    entries,
    next,
    isLoading,
    error,
    loadOlder: () => {
      if (next) void load(next);
    },
    reload: () => setReloads((n) => n + 1),
  };
}

/** `?limit=…&before=…` for a page request (the cursor only when there is one). */
export function pageQuery(limit: number, before: string | null): string {
  return `limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

// Credential tables (keys, tokens) share the same trailing cells so that status and revoke look
// and behave alike; only active credentials can be revoked, and only admins see the column at all.
export function StatusCells({
  status,
  isAdmin,
  revokeTestId,
  onRevoke,
}: {
  status: string;
  isAdmin: boolean;
  revokeTestId: string;
  onRevoke: () => void;
}) {
  return (
    <>
      <td>
        <StatusBadge status={status} />
      </td>
      {isAdmin && (
        <td>
          {status === 'active' && (
            <button type="button" className="danger small" data-testid={revokeTestId} onClick={onRevoke}>
              Revoke
            </button>
          )}
        </td>
      )}
    </>
  );
}

export function EmptyRow({ colSpan, text }: { colSpan: number; text: string }) {
  return (
    <tr>
      <td colSpan={colSpan} className="muted">
        {text}
      </td>
    </tr>
  );
}

/** When a new credential stops working. */
export function ExpirySelect({ value, onChange, testId }: { value: string; onChange: (expiresIn: string) => void; testId: string }) {
  return (
    <label>
      Expires
      <select data-testid={testId} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Never</option>
        <option value="30d">In 30 days</option>
        <option value="90d">In 90 days</option>
        <option value="365d">In 1 year</option>
      </select>
    </label>
  );
}

/** Checkboxes choosing some of `options`. */
export function CheckboxGroup({
  legend,
  options,
  selected,
  onChange,
  testId,
  children,
}: {
  legend: string;
  options: readonly string[];
  selected: string[];
  onChange: (selected: string[]) => void;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <fieldset className="checkbox-group" data-testid={testId}>
      <legend>{legend}</legend>
      {children}
      {options.map((option) => (
        <label key={option} className="checkbox">
          <input
            type="checkbox"
            value={option}
            checked={selected.includes(option)}
            onChange={(event) => onChange(event.target.checked ? [...selected, option] : selected.filter((s) => s !== option))}
          />
          {option}
        </label>
      ))}
    </fieldset>
  );
}

/** The submit and cancel buttons that end an inline form. */
export function FormButtons({ label, testId, onCancel }: { label: string; testId: string; onCancel: () => void }) {
  return (
    <>
      <button type="submit" data-testid={testId}>
        {label}
      </button>
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
    </>
  );
}

/**
 * A change made from a page: `run` asks `question` first (when given), clears the last error,
 * makes the change and reloads on success; a failure is kept in `error` for the page to show.
 * Resolves whether the change was made.
 */
export function useChange(reload: () => void): {
  error: unknown;
  run: (change: () => Promise<unknown>, question?: string) => Promise<boolean>;
} {
  const [error, setError] = useState<unknown>(null);
  const run = async (change: () => Promise<unknown>, question?: string) => {
    if (question !== undefined && !window.confirm(question)) return false;
    setError(null);
    try {
      await change();
      reload();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    }
  };
  return { error, run };
}
