'use strict';

// Origins for the CORS headers that API Gateway itself writes (pre-flight
// answers, gateway error responses): the SPA origins of TRUSTED_WEB_ORIGINS,
// or CORS_ORIGIN where set. Resolved by osls through ${file(...)}; .env is
// already loaded into process.env then.

function origins() {
  const raw = (process.env.CORS_ORIGIN || '').trim() || process.env.TRUSTED_WEB_ORIGINS || '';
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) {
    throw new Error('TRUSTED_WEB_ORIGINS is not set (see .env-template)');
  }
  if (list.includes('*')) {
    throw new Error('a wildcard origin cannot be trusted with credentials');
  }
  return list;
}

// REST API headers hold one static value.
module.exports.single = () => {
  const list = origins();
  if (list.length > 1) {
    throw new Error(
      'TRUSTED_WEB_ORIGINS lists several origins, but REST API gateway responses and ' +
        'pre-flight answers can name only one: set CORS_ORIGIN to it'
    );
  }
  return list[0];
};

// HTTP API CorsConfiguration takes a list.
module.exports.list = () => origins();
