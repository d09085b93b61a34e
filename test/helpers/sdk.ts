import { createRequire } from 'node:module';
import type * as SuprsendTypes from '@suprsend/node-sdk';

// The unmodified SuprSend Node SDK from npm (CommonJS), pointed at Herald by its base_url only.
const require = createRequire(import.meta.url);
const sdk = require('@suprsend/node-sdk') as typeof SuprsendTypes;

export const { Suprsend, WorkflowTriggerRequest, Event, Workflow, SubscriberListBroadcast } = sdk;

export function suprsendClient(workspaceKey: string, secret: string, baseUrl: string): InstanceType<typeof Suprsend> {
  return new Suprsend(workspaceKey, secret, { base_url: baseUrl });
}
