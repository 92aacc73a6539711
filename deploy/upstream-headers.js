'use strict';

// What the HTTP proxy integrations of serverless.yml and serverless.http-api.yml do to the request headers
// before the upstream API sees them, resolved by osls through ${file(...)}. The upstream gets the token in
// Authorization; the browser's session cookies and the CSRF headers are the authorizer's business only
// (a log or a misbehaving upstream must not see the encrypted tokens), so they are removed, unless the
// param keepCookieHeader is true (an upstream that reads cookies of its own). docs/caching.md lists them.

function removed(keepCookie) {
  const prefix = (process.env.COOKIE_NAME_PREFIX || '').trim().toLowerCase();
  const names = [`x-${prefix}-csrf`, 'token-handler-version'];
  return keepCookie ? names : ['Cookie', ...names];
}

async function keepCookie(resolveVariable) {
  const raw = String(await resolveVariable('param:keepCookieHeader')).trim().toLowerCase();
  if (raw !== 'true' && raw !== 'false') {
    throw new Error(`keepCookieHeader must be true or false, not "${raw}"`);
  }
  return raw === 'true';
}

// REST API: the method's request.parameters.headers, with the user's own entries (custom.upstreamHeaders)
// first. An HTTP proxy integration cannot drop a header; it sends the mapped empty value instead.
module.exports.rest = async ({ resolveVariable }) => {
  const own = (await resolveVariable('self:custom.upstreamHeaders')) || {};
  const headers = { ...own };
  for (const name of removed(await keepCookie(resolveVariable))) {
    headers[name] = { required: false, mappedValue: "''" };
  }
  return headers;
};

// The removed names, comma-separated: what deploy/offline/http_proxy.py (the `make offline` stand-in for the
// HTTP proxy integration) drops.
module.exports.names = async ({ resolveVariable }) => removed(await keepCookie(resolveVariable)).join(',');

// HTTP API: the integration's RequestParameters.
module.exports.http = async ({ resolveVariable }) => {
  const params = { 'overwrite:header.Authorization': '$context.authorizer.token' };
  for (const name of removed(await keepCookie(resolveVariable))) {
    params[`remove:header.${name.toLowerCase()}`] = "''";
  }
  return params;
};
