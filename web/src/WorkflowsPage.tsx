import { useState } from 'react';
import { api, roleAtLeast, type Account } from './api';
import { ErrorText, useLoad } from './ui';

type Workflow = Record<string, unknown> & { slug: string; name?: string; category?: string };

export function WorkflowsPage({ base, account }: { base: string; account: Account }) {
  const list = useLoad(() => api<{ workflows: Workflow[] }>('GET', `${base}/workflows`), [base]);
  const [selected, setSelected] = useState<string | null>(null);
  const [isNew, setIsNew] = useState(false);
  const canEdit = roleAtLeast(account.role, 'developer');
  const current = list.data?.workflows.find((w) => w.slug === selected);
  return (
    <div data-testid="page-workflows">
      <div className="section-head">
        <h1>Workflows</h1>
        {canEdit && (
          <button
            type="button"
            data-testid="new-workflow"
            onClick={() => {
              setSelected(null);
              setIsNew(true);
            }}
          >
            New workflow
          </button>
        )}
      </div>
      <ErrorText error={list.error} />
      <div className="split">
        <section className="card">
          <table data-testid="workflows-table">
            <thead>
              <tr>
                <th>Slug</th>
                <th>Name</th>
                <th>Category</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.workflows.map((w) => (
                <tr key={w.slug} data-testid="workflow-row" className={selected === w.slug ? 'selected' : ''}>
                  <td>
                    <a
                      href="#"
                      onClick={(event) => {
                        event.preventDefault();
                        setIsNew(false);
                        setSelected(w.slug);
                      }}
                    >
                      {w.slug}
                    </a>
                  </td>
                  <td>{w.name ?? ''}</td>
                  <td>{w.category ?? ''}</td>
                </tr>
              ))}
              {list.data?.workflows.length === 0 && (
                <tr>
                  <td colSpan={3} className="muted">
                    No workflows yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        {(current || isNew) && (
          <Editor
            key={current?.slug ?? '(new)'}
            base={base}
            workflow={current ?? null}
            canEdit={canEdit}
            onSaved={(slug) => {
              setIsNew(false);
              setSelected(slug);
              list.reload();
            }}
          />
        )}
      </div>
    </div>
  );
}

const TEMPLATE = {
  name: 'New workflow',
  category: 'transactional',
  steps: [{ type: 'inbox', template: { header: 'Hello', text: 'Hi {{data.name}}' } }],
};

function Editor({
  base,
  workflow,
  canEdit,
  onSaved,
}: {
  base: string;
  workflow: Workflow | null;
  canEdit: boolean;
  onSaved: (slug: string) => void;
}) {
  const [slug, setSlug] = useState(workflow?.slug ?? '');
  // The definition only: created_at and updated_at are Herald's to set.
  const [text, setText] = useState(() =>
    JSON.stringify(
      workflow ? { slug: workflow.slug, name: workflow.name, category: workflow.category, steps: workflow.steps } : TEMPLATE,
      null,
      2,
    ),
  );
  const [recipient, setRecipient] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const save = async () => {
    setError(null);
    setMessage(null);
    try {
      const body = JSON.parse(text) as unknown;
      const saved = await api<{ warnings?: string[] }>('PUT', `${base}/workflows/${encodeURIComponent(slug)}`, body);
      setMessage(['Saved.', ...(saved.warnings ?? []).map((warning) => `Warning: ${warning}.`)].join(' '));
      onSaved(slug);
    } catch (failure) {
      setError(failure);
    }
  };

  const test = async () => {
    setError(null);
    setMessage(null);
    try {
      const answer = await api<{ message_id: string }>('POST', `${base}/workflows/${encodeURIComponent(slug)}/test`, {
        recipients: [recipient],
      });
      setMessage(`Triggered: message ${answer.message_id}`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section className="card" data-testid="workflow-editor">
      <label>
        Slug
        <input data-testid="workflow-slug" value={slug} disabled={workflow !== null} onChange={(e) => setSlug(e.target.value)} />
      </label>
      <label>
        Definition (JSON)
        <textarea
          className="code"
          rows={20}
          data-testid="workflow-json"
          value={text}
          readOnly={!canEdit}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      {canEdit && (
        <>
          <div className="row">
            <button type="button" data-testid="workflow-save" onClick={() => void save()}>
              Save
            </button>
          </div>
          {workflow && (
            <div className="inline-form">
              <label>
                Test recipient (distinct_id)
                <input data-testid="workflow-test-recipient" value={recipient} onChange={(e) => setRecipient(e.target.value)} />
              </label>
              <button type="button" className="secondary" data-testid="workflow-test" disabled={!recipient} onClick={() => void test()}>
                Send test
              </button>
            </div>
          )}
        </>
      )}
      {message && (
        <p className="notice" data-testid="workflow-message">
          {message}
        </p>
      )}
      <ErrorText error={error} />
    </section>
  );
}
