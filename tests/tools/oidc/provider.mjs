// A real OpenID Connect provider (oidc-provider) on loopback for the SafeHaven web tests.
// It imitates a site's identity provider (Keycloak, Entra ID, an institution's Shibboleth-backed OP) in its least
// complete useful shape: authorization code flow with PKCE, one confidential client (client_secret_post), signing keys
// it makes at start, and users whose group memberships arrive in a "roles" claim as plain group names that the
// appliance's SafeHaven:Auth:Jwt:RoleMap translates. Left out on purpose: refresh tokens, dynamic registration, real
// passwords (oidc-provider's own development login page accepts any password for a known user), and consent pages
// (the grant for this first-party client is made on sign-in, as sites configure for their own services).
//
// Usage: node provider.mjs <port> <redirect-uri> <client-id> <client-secret> <users.json>
// users.json: { "<login>": { "name": "...", "roles": ["group", ...] }, ... }
// Prints "ready <issuer>" on standard output once it listens.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, redirectUri, clientId, clientSecret, usersFile] = process.argv.slice(2);
if (!port || !redirectUri || !clientId || !clientSecret || !usersFile) {
  console.error('usage: node provider.mjs <port> <redirect-uri> <client-id> <client-secret> <users.json>');
  process.exit(2);
}
const users = JSON.parse(readFileSync(usersFile, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [new URL('/', redirectUri).href],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    roles: ['roles'],
  },
  // The roles claim goes into the ID token itself (the appliance reads the ID token, not the userinfo endpoint).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['safehaven-test-cookie-key'] },
  async findAccount(_ctx, id) {
    const user = users[id];
    if (!user) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: user.name ?? id, roles: user.roles ?? [] };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile roles');
    grant.addOIDCClaims(['sub', 'preferred_username', 'name', 'roles']);
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
