// A real OpenID Connect provider (the OpenID-certified `oidc-provider`) for Morgue's
// sign-in tests (tests/identity/test_oidc.py), on a loopback port the test picks.
//
//   node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
//
// People are kept in memory and set by the test; the login screen is replaced by
// /interaction/<uid>?login=<account>, which signs that account in and grants the
// requested scopes, so a plain HTTP client can drive the whole flow. Two test-only
// switches act on the token endpoint's answer, as a man in the middle would:
//   POST /_test/accounts {"id": ..., "claims": {...}}  add or replace a person
//   POST /_test/tamper {"id_token": true}              change the ID token's payload after signing
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map();
const switches = { idToken: false };

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'morgue-test', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'zoneinfo'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  findAccount: async (ctx, id) => (accounts.has(id)
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts.get(id) }) }
    : undefined),
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['morgue-test-cookies'] },
  jwks: { keys: [signingKey] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
});
provider.proxy = false;

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/_test/accounts') {
    const { id, claims } = await readJson(ctx.req);
    accounts.set(id, claims);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/_test/tamper') {
    switches.idToken = Boolean((await readJson(ctx.req)).id_token);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = ctx.query.login;
    if (!accounts.has(accountId)) {
      ctx.status = 400;
      ctx.body = { error: `no such account: ${accountId}` };
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const result = { login: { accountId }, consent: { grantId } };
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }
  await next();
  if (ctx.path === '/token' && switches.idToken && ctx.body && ctx.body.id_token) {
    // Rewrite who the token is about, keeping the provider's signature: only a
    // client that checks the signature notices.
    const [header, payload, signature] = ctx.body.id_token.split('.');
    const claims = b64json(payload);
    claims.sub = 'mallory';
    claims.email = 'mallory@example.com';
    claims.groups = ['morgue-admins'];
    const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
    ctx.body = { ...ctx.body, id_token: [header, forged, signature].join('.') };
  }
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
