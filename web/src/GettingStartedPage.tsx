import { useState } from 'react';
import { api, roleAtLeast, type Account, type PublicKey, type Workspace } from './api';
import { CopyButton, ErrorText, useLoad } from './ui';

/*
 * The workspace's own snippets, filled in with what is not secret (the workspace key, a public
 * key, a workflow slug, this server's address). Secrets are never put into a snippet: the code
 * reads them from the environment and the text says where to get them.
 */

interface WorkflowSummary {
  slug: string;
  name?: string;
}

const SAMPLE_USER = 'demo-user';

function Snippet({ title, code, testId }: { title: string; code: string; testId: string }) {
  return (
    <>
      <div className="snippet-head">
        <h3>{title}</h3>
        <CopyButton text={code} testId={`${testId}-copy`} />
      </div>
      <pre className="snippet" data-testid={testId}>
        {code}
      </pre>
    </>
  );
}

function nodeSdkSnippet(origin: string, workspace: Workspace, workflow: string): string {
  return `// npm install @suprsend/node-sdk
import { Suprsend, WorkflowTriggerRequest } from '@suprsend/node-sdk';

const supr = new Suprsend('${workspace.workspace_key}', process.env.HERALD_WORKSPACE_SECRET, {
  base_url: '${origin}',
});

const request = new WorkflowTriggerRequest({
  workflow: '${workflow}',
  recipients: ['${SAMPLE_USER}'],
  data: { message: 'Hello from my backend' },
});
const response = await supr.workflows.trigger(request);
console.log(response);`;
}

function restSnippet(origin: string, workflow: string): string {
  return `curl -X POST ${origin}/trigger/ \\
  -H "Authorization: Bearer $HERALD_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"workflow": "${workflow}", "recipients": ["${SAMPLE_USER}"], "data": {"message": "Hello over REST"}}'`;
}

function browserSnippet(origin: string, publicKey: string, isEnhanced: boolean): string {
  const identify = isEnhanced
    ? `// Enhanced security is on: every request needs a user token (an ES256 JWT) that your
// backend signs with one of this workspace's signing keys.
await client.identify('${SAMPLE_USER}', userTokenFromYourBackend, {
  refreshUserToken: async () => fetchNewTokenFromYourBackend(),
});`
    : `// Enhanced security is off in this workspace: the public key alone identifies the user.
await client.identify('${SAMPLE_USER}');`;
  return `// npm install @suprsend/web-sdk
import { SuprSend } from '@suprsend/web-sdk';

const client = new SuprSend('${publicKey}', { host: '${origin}' });
${identify}

const feed = client.feeds.initialize({ host: { apiHost: '${origin}', socketHost: '${origin}' } });
feed.initializeSocketConnection();
await feed.fetch();`;
}

export function GettingStartedPage({ account, workspace, base }: { account: Account; workspace: Workspace; base: string }) {
  const origin = window.location.origin;
  const data = useLoad(async () => {
    const [workflows, publicKeys] = await Promise.all([
      api<{ workflows: WorkflowSummary[] }>('GET', `${base}/workflows`),
      api<{ public_keys: PublicKey[] }>('GET', `${base}/public-keys`),
    ]);
    return { workflows: workflows.workflows, publicKeys: publicKeys.public_keys.filter((k) => k.status === 'active') };
  }, [base]);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const workflow = data.data?.workflows[0]?.slug;
  const [chosenKey, setChosenKey] = useState<string | null>(null);
  const keys = data.data?.publicKeys ?? [];
  const publicKey = keys.find((k) => k.key === chosenKey)?.key ?? keys[0]?.key;
  const canSend = roleAtLeast(account.role, 'developer');

  const sendTest = async () => {
    if (!workflow) return;
    setError(null);
    setSent(null);
    try {
      const answer = await api<{ message_id: string }>('POST', `${base}/workflows/${encodeURIComponent(workflow)}/test`, {
        recipients: [SAMPLE_USER],
        data: { message: 'Sent from the dashboard' },
      });
      setSent(answer.message_id);
    } catch (failure) {
      setError(failure);
    }
  };

  const wf = workflow ?? 'your-workflow';
  const pk = publicKey ?? 'hpk_…';
  return (
    <div data-testid="page-getting-started">
      <h1>Getting started</h1>
      <ErrorText error={data.error ?? error} />
      <section className="card">
        <h2>Your first notification in {workspace.name || workspace.slug}</h2>
        <ol className="steps" data-testid="getting-started-steps">
          <li>
            {workflow ? (
              <>
                A workflow to trigger: <code>{workflow}</code>.
              </>
            ) : (
              <>
                Create a workflow with an inbox step on the <strong>Workflows</strong> page (or{' '}
                <code>npm run herald -- workflow apply {workspace.slug} workflow.json</code>).
              </>
            )}
          </li>
          <li>
            {publicKey ? (
              <>
                Open the demo inbox for <code>{SAMPLE_USER}</code>:{' '}
                <a
                  data-testid="demo-inbox-link"
                  href={`${origin}/demo/inbox#public_key=${encodeURIComponent(publicKey)}&distinct_id=${SAMPLE_USER}`}
                  target="_blank"
                  rel="noreferrer"
                >
                  demo inbox
                </a>
                {workspace.enhanced_security && ' (enhanced security is on: the demo page asks for a user token)'}.
              </>
            ) : (
              <>
                Create a public key on the <strong>API Keys</strong> page: browser and mobile SDKs identify the workspace with it.
              </>
            )}
          </li>
          <li>
            Send {SAMPLE_USER} a notification and watch it arrive:{' '}
            {canSend && workflow ? (
              <button type="button" className="small" data-testid="send-test" onClick={() => void sendTest()}>
                Send a test notification
              </button>
            ) : (
              <code>
                npm run herald -- trigger {workspace.slug} {wf} --user {SAMPLE_USER}
              </code>
            )}
            {sent && (
              <span className="notice small" data-testid="test-sent">
                {' '}
                Sent (message {sent}).
              </span>
            )}
          </li>
        </ol>
      </section>
      <section className="card">
        <h2>From your backend</h2>
        <p className="muted">
          Backend SDKs sign every request with the workspace key and secret. Get the secret on the <strong>API Keys</strong> page (Reveal)
          or with <code>npm run herald -- workspace secret {workspace.slug}</code>, and keep it in <code>HERALD_WORKSPACE_SECRET</code>.
        </p>
        <Snippet title="Node.js SDK" code={nodeSdkSnippet(origin, workspace, wf)} testId="snippet-node" />
        <p className="muted">
          Plain REST: any route accepts an API key as <code>Authorization: Bearer</code>. Generate one on the <strong>API Keys</strong>{' '}
          page; it is shown once.
        </p>
        <Snippet title="REST with an API key" code={restSnippet(origin, wf)} testId="snippet-rest" />
      </section>
      <section className="card">
        <h2>In the browser</h2>
        <p className="muted">
          {workspace.enhanced_security
            ? 'Enhanced security is on in this workspace: the browser SDK sends a user token signed by your backend with a signing key (API Keys page → Signing keys).'
            : 'Enhanced security is off in this workspace, so the public key is enough. Turn it on before going live: then every client request needs a user token signed by your backend.'}
        </p>
        {keys.length > 1 && (
          <label className="inline-label">
            Public key
            <select data-testid="public-key-choice" value={publicKey} onChange={(event) => setChosenKey(event.target.value)}>
              {keys.map((k) => (
                <option key={k.id} value={k.key}>
                  {k.name || k.key}
                </option>
              ))}
            </select>
          </label>
        )}
        <Snippet
          title="Web SDK (@suprsend/web-sdk)"
          code={browserSnippet(origin, pk, workspace.enhanced_security)}
          testId="snippet-browser"
        />
      </section>
    </div>
  );
}
