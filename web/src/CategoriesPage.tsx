import { useState, type FormEvent } from 'react';
import { api, CATEGORY_DEFAULT_LABELS, formatTime, roleAtLeast, type Account, type Category, type CategoryDefault } from './api';
import { ErrorText, useLoad } from './ui';

/**
 * The workspace's notification categories: what workflows name and what users opt in or out of.
 * Developers and up create or edit them here; the server applies the same checks as
 * `herald category apply`, so the form does not repeat them.
 */

const DEFAULTS = Object.keys(CATEGORY_DEFAULT_LABELS) as CategoryDefault[];

interface Draft {
  slug: string;
  name: string;
  section: string;
  description: string;
  default_preference: CategoryDefault;
}

const EMPTY_DRAFT: Draft = { slug: '', name: '', section: '', description: '', default_preference: 'opt_in' };

function draftOf(category: Category): Draft {
  return {
    slug: category.slug,
    name: category.name,
    section: category.section ?? '',
    description: category.description ?? '',
    default_preference: category.default_preference,
  };
}

export function CategoriesPage({ base, account, workspaceSlug }: { base: string; account: Account; workspaceSlug: string }) {
  const list = useLoad(() => api<{ categories: Category[] }>('GET', `${base}/categories`), [base]);
  // null: no form; isNew false: editing the category named by draft.slug.
  const [form, setForm] = useState<{ draft: Draft; isNew: boolean } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canEdit = roleAtLeast(account.role, 'developer');
  const categories = list.data?.categories;

  const open = (draft: Draft, isNew: boolean) => {
    setNotice(null);
    setForm({ draft, isNew });
  };

  return (
    <div data-testid="page-categories">
      <div className="section-head">
        <h1>Categories</h1>
        {canEdit && (
          <button type="button" data-testid="new-category" onClick={() => open(EMPTY_DRAFT, true)}>
            New category
          </button>
        )}
      </div>
      <p className="muted">
        Workflows name a category; users opt in or out of it in their preferences. The default applies until a user chooses.
      </p>
      <ErrorText error={list.error} />
      {notice && (
        <p className="notice" data-testid="category-message">
          {notice}
        </p>
      )}
      {form && (
        <CategoryForm
          key={form.isNew ? '(new)' : form.draft.slug}
          base={base}
          initial={form.draft}
          isNew={form.isNew}
          onCancel={() => setForm(null)}
          onSaved={(category, isCreated) => {
            setForm(null);
            setNotice(`Category “${category.name}” ${isCreated ? 'created' : 'saved'}.`);
            list.reload();
          }}
        />
      )}
      <section className="card">
        <div className="table-scroll">
          <table data-testid="categories-table">
            <thead>
              <tr>
                <th>Category</th>
                <th>Section</th>
                <th>Description</th>
                <th>Default</th>
                <th>Updated</th>
                {canEdit && <th />}
              </tr>
            </thead>
            <tbody>
              {categories?.map((category) => (
                <tr key={category.slug} data-testid="category-row" data-slug={category.slug}>
                  <td>
                    <strong>{category.name}</strong>
                    <div className="muted small mono">{category.slug}</div>
                  </td>
                  <td>{category.section ?? '—'}</td>
                  <td className="category-description">{category.description ?? '—'}</td>
                  <td className="nowrap" data-testid="category-default">
                    <span className={`badge default-${category.default_preference}`}>
                      {CATEGORY_DEFAULT_LABELS[category.default_preference]}
                    </span>
                  </td>
                  <td className="nowrap">{formatTime(category.updated_at)}</td>
                  {canEdit && (
                    <td>
                      <button
                        type="button"
                        className="secondary small"
                        data-testid="edit-category"
                        onClick={() => open(draftOf(category), false)}
                      >
                        Edit
                      </button>
                    </td>
                  )}
                </tr>
              ))}
              {categories?.length === 0 && (
                <tr>
                  <td colSpan={canEdit ? 6 : 5} className="muted" data-testid="categories-empty">
                    No categories yet. {canEdit ? 'Create one here or' : 'A developer can create them here or'} with{' '}
                    <code>npm run herald -- category apply {workspaceSlug} categories.json</code>.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function CategoryForm({
  base,
  initial,
  isNew,
  onCancel,
  onSaved,
}: {
  base: string;
  initial: Draft;
  isNew: boolean;
  onCancel: () => void;
  onSaved: (category: Category, isCreated: boolean) => void;
}) {
  const [draft, setDraft] = useState<Draft>(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof Draft) => (event: { target: { value: string } }) => setDraft({ ...draft, [field]: event.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Empty optional fields are left out rather than sent as "", which the service refuses.
      const answer = await api<{ category: Category; created: boolean }>('PUT', `${base}/categories/${encodeURIComponent(draft.slug)}`, {
        name: draft.name,
        section: draft.section.trim() === '' ? null : draft.section,
        description: draft.description.trim() === '' ? null : draft.description,
        default_preference: draft.default_preference,
      });
      onSaved(answer.category, answer.created);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <section className="card" data-testid="category-form">
      <h2>{isNew ? 'New category' : `Edit “${initial.name}”`}</h2>
      <form className="category-form" onSubmit={(event) => void submit(event)}>
        <label>
          Slug
          <input
            data-testid="category-slug"
            value={draft.slug}
            onChange={set('slug')}
            readOnly={!isNew}
            required
            placeholder="billing"
            spellCheck={false}
          />
          <span className="hint">Lower-case letters, digits, “.”, “_” or “-”; workflows and SDKs use it. It cannot be changed later.</span>
        </label>
        <label>
          Name
          <input data-testid="category-name" value={draft.name} onChange={set('name')} required placeholder="Billing" />
        </label>
        <label>
          <span>
            Section <span className="muted small">(optional: groups categories on preference pages)</span>
          </span>
          <input data-testid="category-section" value={draft.section} onChange={set('section')} placeholder="Account" />
        </label>
        <label>
          Default
          <select data-testid="category-default-select" value={draft.default_preference} onChange={set('default_preference')}>
            {DEFAULTS.map((value) => (
              <option key={value} value={value}>
                {CATEGORY_DEFAULT_LABELS[value]}
              </option>
            ))}
          </select>
        </label>
        <label className="wide">
          <span>
            Description <span className="muted small">(optional)</span>
          </span>
          <textarea data-testid="category-description" rows={2} value={draft.description} onChange={set('description')} />
        </label>
        <ErrorText error={error} testId="category-error" />
        <div className="row wide">
          <button type="submit" disabled={busy} data-testid="category-save">
            {isNew ? 'Create category' : 'Save changes'}
          </button>
          <button type="button" className="secondary" data-testid="category-cancel" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
