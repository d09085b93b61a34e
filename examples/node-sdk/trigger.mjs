// Triggers the `welcome` workflow for `demo-user` with the unmodified SuprSend Node SDK, pointed at
// Herald by its base URL. The key and secret are what `npm run herald -- workspace secret staging`
// prints. Run it from the repository (see examples/README.md); elsewhere: npm install @suprsend/node-sdk
import { Suprsend, WorkflowTriggerRequest } from '@suprsend/node-sdk';

const { HERALD_URL = 'http://localhost:8787', HERALD_WORKSPACE_KEY, HERALD_WORKSPACE_SECRET } = process.env;
if (!HERALD_WORKSPACE_KEY || !HERALD_WORKSPACE_SECRET) {
  console.error('Set HERALD_WORKSPACE_KEY and HERALD_WORKSPACE_SECRET (npm run herald -- workspace secret staging)');
  process.exit(2);
}
const message = process.argv[2] ?? 'Hello from the node-sdk example';

const supr = new Suprsend(HERALD_WORKSPACE_KEY, HERALD_WORKSPACE_SECRET, { base_url: HERALD_URL });
const request = new WorkflowTriggerRequest({ workflow: 'welcome', recipients: ['demo-user'], data: { message } });
const response = await supr.workflows.trigger(request);
console.log(response);
// The SDK does not throw on an HTTP error: it answers { success: false, status_code, message }.
if (!response.success) process.exit(1);
