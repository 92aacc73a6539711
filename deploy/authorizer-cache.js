'use strict';

// The authorizer result TTL and identity sources of serverless.yml and serverless.http-api.yml, resolved by
// osls through ${file(...)} (.env is already in process.env then). docs/caching.md explains each choice.
//
// API Gateway keys a cached answer on the identity sources alone, so above TTL 0 they must hold every input
// of the authorizer's decision: the Cookie header (the tokens), the Origin, the method (only writes need
// the CSRF check) and, for writes, the CSRF header. A missing identity source is a 401 without calling the
// authorizer, and GET carries no CSRF header, so reads and writes have an authorizer each (same function).
// With CSRF_MODE=header every request carries token-handler-version instead, and both key on it.
// At TTL 0 nothing is cached, and the Cookie alone keeps the authorizer's own 403 reasons for the rest.

const MAX_TTL = 3600; // API Gateway's limit

function flag(name) {
  return (process.env[name] || '').trim().toLowerCase();
}

function csrfHeader() {
  return `x-${(process.env.COOKIE_NAME_PREFIX || '').trim().toLowerCase()}-csrf`;
}

async function settings(resolveVariable, api) {
  const raw = String(await resolveVariable('param:authorizerTtl')).trim();
  const ttl = Number(raw);
  if (!/^[0-9]+$/.test(raw) || ttl > MAX_TTL) {
    throw new Error(`authorizerTtl must be a whole number of seconds from 0 to ${MAX_TTL}, not "${raw}"`);
  }
  if (ttl > 0 && flag('ALLOW_TOKEN') === 'true') {
    // A bearer request carries no Cookie to key on, and an Authorization identity source would turn every
    // cookie request into a 401.
    throw new Error('authorizerTtl above 0 cannot be combined with ALLOW_TOKEN=true (docs/caching.md)');
  }
  if (ttl > 0 && api === 'rest' && (process.env.ROUTE_SCOPES || '').trim() !== '') {
    // With ROUTE_SCOPES the Allow names the request's own method ARN: cached, it would refuse every other
    // path of the same user for the TTL.
    throw new Error('authorizerTtl above 0 cannot be combined with ROUTE_SCOPES on a REST API (docs/caching.md)');
  }
  // Same-origin GETs carry no Origin header: the reads authorizer cannot key on it, so it does not cache.
  const sameOrigin = flag('REQUIRE_ORIGIN') === 'writes';
  return { ttl, readTtl: sameOrigin ? 0 : ttl, headerMode: flag('CSRF_MODE') === 'header' };
}

const SOURCES = {
  rest: {
    cookie: 'method.request.header.Cookie',
    origin: 'method.request.header.Origin',
    method: ['context.httpMethod'],
    header: (name) => `method.request.header.${name}`,
    join: (list) => list.join(','),
  },
  http: {
    cookie: '$request.header.Cookie',
    origin: '$request.header.Origin',
    // routeKey: simple responses carry no resource, so a route with other ROUTE_SCOPES needs its own entry.
    method: ['$context.httpMethod', '$context.routeKey'],
    header: (name) => `$request.header.${name}`,
    join: (list) => list,
  },
};

function sources(api, ttl, writes, headerMode) {
  const s = SOURCES[api];
  if (ttl === 0) return s.join([s.cookie]);
  const list = [s.cookie, s.origin, ...s.method];
  if (headerMode) list.push(s.header('token-handler-version'));
  else if (writes) list.push(s.header(csrfHeader()));
  return s.join(list);
}

async function ttlAndSources(resolveVariable, api, writes) {
  const c = await settings(resolveVariable, api);
  const ttl = writes ? c.ttl : c.readTtl;
  return { ttl, sources: sources(api, ttl, writes, c.headerMode) };
}

module.exports.readTtl = async ({ resolveVariable }) => (await ttlAndSources(resolveVariable, 'rest', false)).ttl;
module.exports.writeTtl = async ({ resolveVariable }) => (await ttlAndSources(resolveVariable, 'rest', true)).ttl;
module.exports.restReadSources = async ({ resolveVariable }) =>
  (await ttlAndSources(resolveVariable, 'rest', false)).sources;
module.exports.restWriteSources = async ({ resolveVariable }) =>
  (await ttlAndSources(resolveVariable, 'rest', true)).sources;
module.exports.httpReadTtl = async ({ resolveVariable }) => (await ttlAndSources(resolveVariable, 'http', false)).ttl;
module.exports.httpWriteTtl = async ({ resolveVariable }) => (await ttlAndSources(resolveVariable, 'http', true)).ttl;
module.exports.httpReadSources = async ({ resolveVariable }) =>
  (await ttlAndSources(resolveVariable, 'http', false)).sources;
module.exports.httpWriteSources = async ({ resolveVariable }) =>
  (await ttlAndSources(resolveVariable, 'http', true)).sources;
