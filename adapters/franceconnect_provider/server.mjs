// FranceConnect v2 as it runs, on loopback: the `oidc-provider` engine (FranceConnect's own)
// configured as FranceConnect publishes its configuration, with demonstration identities.
//
//   node adapters/franceconnect_provider/server.mjs CONFIG.json
//
// CONFIG.json (written by adapters/franceconnect_provider/__init__.py):
//   host, port (0: any free port), issuer (null: http://host:port/api/v2),
//   keys (a private JWKS: the first key of each algorithm signs), pairwise_salt,
//   clients (FranceConnect registrations), identities (the pivot identities offered).
//
// One JSON line on stdout per event: {"event": "listening", "issuer", "port"} once the port
// is bound, {"event": "reloaded"} after SIGHUP (CONFIG.json read again: keys rotated,
// clients registered, issuer changed), {"event": "stopped"} on SIGTERM or SIGINT.
// State (sessions, codes, tokens) lives in memory: run one process.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const API = '/api/v2';
const ACR = 'eidas1';
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: server.mjs CONFIG.json\n');
  process.exit(2);
}

// FranceConnect's scopes are claim names, plus groups (identite_pivot).
const CLAIMS = {
  openid: ['sub'],
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
  email: ['email'],
  preferred_username: ['preferred_username'],
  identite_pivot: ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace',
    'birthcountry'],
};
// FranceConnect refuses a state or nonce shorter than this, or with other than letters and
// digits, and an authorization request without acr_values.
const RANDOM_VALUE = /^[A-Za-z0-9]{32,512}$/;
// Our own client settings, not registration metadata: taken out before oidc-provider sees them.
const OWN_CLIENT_SETTINGS = ['x_omit_acr'];
// Cookies signed with a key of this process: sessions survive a reload, not a restart.
const COOKIE_KEYS = [crypto.randomBytes(32).toString('hex')];

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const origin = (uri) => new URL(uri).origin;

function readConfig() {
  return JSON.parse(fs.readFileSync(configPath, 'utf8'));
}

// -- pages --------------------------------------------------------------------------------------

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#161616;background:#f6f6f6}
header{background:#000091;color:#fff;padding:1rem 2rem}
main{max-width:44rem;margin:2rem auto;padding:0 1rem}
.id{background:#fff;border:1px solid #ddd;padding:1rem;margin:0 0 1rem}
button{font:inherit;padding:.5rem 1rem;background:#000091;color:#fff;border:0;cursor:pointer}
button.secondary{background:#fff;color:#000091;border:1px solid #000091}
button:hover{background:#1212ff}button.secondary:hover{background:#f0f0ff}
.note{color:#3a3a3a;font-size:.9rem}`;

function page(title, body) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} - FranceConnect de démonstration</title><style>${STYLE}</style></head>
<body><header><p>FranceConnect de démonstration</p></header><main>
<h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function chooser(identities, clientId) {
  const rows = identities.map((identity) => `<div class="id">
<p><strong>${escape(identity.given_name)} ${escape(identity.family_name)}</strong>,
née ou né le ${escape(identity.birthdate)}</p>
${identity.note ? `<p class="note">${escape(identity.note)}</p>` : ''}
<button type="submit" name="identite" value="${escape(identity.id)}">Continuer avec
${escape(identity.given_name)} ${escape(identity.family_name)}</button></div>`).join('\n');
  return page("Choisissez l'identité avec laquelle vous connecter", `
<p>Service demandeur : <strong>${escape(clientId)}</strong>. Ces identités sont fictives.</p>
<form method="post">
${rows || "<p>Aucune identité de démonstration n'est configurée.</p>"}
<p><button type="submit" class="secondary" name="action" value="refuser">Refuser et revenir
au service</button></p></form>`);
}

// -- the provider ---------------------------------------------------------------------------------

function build(config, issuer) {
  const identities = new Map(config.identities.map((identity) => [identity.id, identity]));
  const omitAcr = new Set();
  const clients = config.clients.map((registration) => {
    const client = { ...registration };
    if (client.x_omit_acr) omitAcr.add(client.client_id);
    OWN_CLIENT_SETTINGS.forEach((name) => delete client[name]);
    if (client.userinfo_signed_response_alg === null) delete client.userinfo_signed_response_alg;
    return {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      subject_type: 'pairwise',
      id_token_signed_response_alg: 'ES256',
      ...client,
    };
  });

  const provider = new Provider(issuer, {
    clients,
    jwks: config.keys,
    cookies: { keys: COOKIE_KEYS },
    claims: CLAIMS,
    scopes: ['openid'],
    acrValues: [ACR],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_post'],
    subjectTypes: ['pairwise'],
    // FranceConnect's `sub`: per service provider, 64 hexadecimal digits and a version suffix.
    pairwiseIdentifier: async (ctx, accountId, client) => `${crypto.createHash('sha256')
      .update(`${config.pairwise_salt}|${client.clientId}|${accountId}`).digest('hex')}v1`,
    pkce: { required: () => false },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
    },
    ttl: {
      AuthorizationCode: 30,
      AccessToken: 60,
      IdToken: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/session/end',
    },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // FranceConnect ends its session without asking: the form submits itself.
        logoutSource: async (ctx, form) => {
          const nonce = crypto.randomBytes(16).toString('base64');
          ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; `
            + `script-src 'nonce-${nonce}'; form-action 'self' ${config.formTargets.join(' ')}; `
            + "frame-ancestors 'none'");
          ctx.body = page('Déconnexion de FranceConnect', `${form}
<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Se déconnecter de
FranceConnect</button></p>
<script nonce="${nonce}">const form = document.getElementById('op.logoutForm');
const yes = document.createElement('input'); yes.type = 'hidden'; yes.name = 'logout';
yes.value = 'yes'; form.appendChild(yes); form.submit();</script>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Vous êtes déconnecté de FranceConnect', '');
        },
      },
    },
    // FranceConnect asks no consent of its own per service: the provider approved the
    // service's scopes when it registered it, so the grant covers what is asked.
    loadExistingGrant: async (ctx) => {
      const { Grant } = ctx.oidc.provider;
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      const grant = (grantId && await Grant.find(grantId)) || new Grant({
        accountId: ctx.oidc.account.accountId, clientId: ctx.oidc.client.clientId,
      });
      if (ctx.oidc.params.scope) grant.addOIDCScope(ctx.oidc.params.scope);
      await grant.save();
      return grant;
    },
    findAccount: async (ctx, id) => {
      const identity = identities.get(id);
      if (!identity) return undefined;
      return {
        accountId: id,
        claims: async () => {
          const values = { sub: id };
          for (const claim of new Set(Object.values(CLAIMS).flat())) {
            if (identity[claim]) values[claim] = identity[claim];
          }
          return values;
        },
      };
    },
    interactions: { url: async (ctx, interaction) => `${API}/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Requête invalide', `<p>${escape(out.error)} : `
        + `${escape(out.error_description)}</p>`);
    },
  });
  provider.proxy = false;

  // FranceConnect's own rules on the authorization and logout requests, before the engine's.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/session/end' && ctx.method === 'GET') {
      const missing = ['id_token_hint', 'state', 'post_logout_redirect_uri']
        .filter((name) => !ctx.query[name]);
      if (missing.length) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page('Déconnexion impossible',
          `<p>Paramètre(s) manquant(s) : ${escape(missing.join(', '))}.</p>`);
        return;
      }
    }
    if (ctx.path === '/authorize') {
      if (ctx.method !== 'GET') {
        ctx.status = 405;
        ctx.body = page('Requête invalide', "<p>La demande d'autorisation se fait en GET.</p>");
        return;
      }
      const problem = ['state', 'nonce'].find((name) => !RANDOM_VALUE.test(ctx.query[name] ?? ''))
        ?? (ctx.query.acr_values !== ACR ? 'acr_values' : null);
      if (problem) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page('Requête invalide', `<p>Le paramètre « ${escape(problem)} » est `
          + 'absent ou mal formé (state et nonce : 32 lettres et chiffres au moins ; '
          + `acr_values : ${ACR}).</p>`);
        return;
      }
    }
    await next();
  });

  // Errors that oidc-provider turns into OAuth answers, written where a developer looks.
  for (const name of ['authorization.error', 'grant.error', 'userinfo.error',
    'end_session.error', 'server_error']) {
    provider.on(name, (ctx, error) => process.stderr.write(
      `franceconnect ${name}: ${error.error ?? error.name} ${error.error_description ?? error.message}\n`,
    ));
  }
  return { provider, handle: provider.callback(), identities, omitAcr };
}

// -- the interaction: the identity chooser ----------------------------------------------------

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 8192) throw new errors.InvalidRequest('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(current, req, res) {
  const { provider, identities, omitAcr } = current;
  const details = await provider.interactionDetails(req, res);
  const clientId = details.params.client_id;
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(chooser([...identities.values()], clientId));
    return;
  }
  const form = await readForm(req);
  if (form.get('action') === 'refuser') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'User auth aborted',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const id = form.get('identite');
  if (!identities.has(id)) {
    res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page('Requête invalide', '<p>Identité inconnue.</p>'));
    return;
  }
  const login = { accountId: id, amr: ['pwd'], ...(omitAcr.has(clientId) ? {} : { acr: ACR }) };
  await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

// -- the server ----------------------------------------------------------------------------------

let current = null;
let config = readConfig();

function headers(res, path) {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The engine's own logout page (no session to end) submits itself with an inline script;
  // ours (logoutSource) sets its own policy with a nonce.
  if (!path.startsWith(`${API}/session/end`)) {
    // The chooser posts here and is answered with a redirect to a service: CSP's
    // form-action covers redirects, so it lists the services' registered origins.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; "
      + `form-action 'self' ${config.formTargets.join(' ')}; frame-ancestors 'none'`);
  }
}

const server = http.createServer(async (req, res) => {
  const path = req.url.split('?')[0];
  headers(res, path);
  try {
    if (path.startsWith(`${API}/interaction/`)) {
      await interaction(current, req, res);
    } else if (path === API || path.startsWith(`${API}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(API.length) || '/';
      await current.handle(req, res);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page('Page introuvable', `<p>Découverte : <code>${escape(current.provider.issuer)}`
        + '/.well-known/openid-configuration</code></p>'));
    }
  } catch (error) {
    const status = error.statusCode ?? 500;
    process.stderr.write(`franceconnect ${req.method} ${path}: ${error.name} ${error.message}\n`);
    if (!res.headersSent) {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page('Requête invalide', `<p>${escape(error.error ?? error.message)}</p>`));
    }
  }
});

function start(port) {
  config = readConfig();
  const issuer = config.issuer ?? `http://${config.host}:${port}${API}`;
  config.formTargets = [...new Set(config.clients.flatMap(
    (client) => [...client.redirect_uris, ...(client.post_logout_redirect_uris ?? [])],
  ).map(origin))];
  current = build(config, issuer);
  return issuer;
}

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  const issuer = start(port);
  emit({ event: 'listening', issuer, port });
});

process.on('SIGHUP', () => {
  try {
    start(server.address().port);
    emit({ event: 'reloaded' });
  } catch (error) {
    process.stderr.write(`franceconnect reload failed: ${error.message}\n`);
    emit({ event: 'reload_failed', message: error.message });
  }
});

function stop() {
  emit({ event: 'stopped' });
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, stop);
// Never outlive the program that started it (a test run or `flask franceconnect
// serve-local` killed outright): an orphan is adopted by another parent.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) stop(); }, 1000).unref();
