// Signs a user token, as your backend does for each signed-in user when the workspace has enhanced
// security on: an ES256 JWT signed with one of the workspace's signing keys
// (`npm run herald -- signing-key create staging` prints the private key once, as PEM and Base64).
// Run it from the repository (see examples/README.md); elsewhere: npm install jose
import { readFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { importPKCS8, SignJWT } from 'jose';

const { HERALD_SIGNING_KEY, HERALD_SIGNING_KEY_FILE, HERALD_TENANT } = process.env;
const keyText = HERALD_SIGNING_KEY_FILE ? readFileSync(HERALD_SIGNING_KEY_FILE, 'utf8') : HERALD_SIGNING_KEY;
if (!keyText) {
  console.error('Set HERALD_SIGNING_KEY (the PEM or its Base64) or HERALD_SIGNING_KEY_FILE (a PEM file)');
  process.exit(2);
}
const distinctId = process.argv[2] ?? 'demo-user';

// The Base64 form (starts LS0tLS1CRUdJTi) is the PEM encoded once more, for env vars.
const pem = keyText.trimStart().startsWith('-----BEGIN') ? keyText : Buffer.from(keyText, 'base64').toString('utf8');
const signingKey = await importPKCS8(pem, 'ES256'); // the PEM `herald signing-key create` printed

const claims = { entity_type: 'subscriber', entity_id: distinctId };
// Without scope.tenant_id the token acts in tenant `default` only.
if (HERALD_TENANT) claims.scope = { tenant_id: HERALD_TENANT };
const userToken = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('1h').sign(signingKey);
console.log(userToken);
