'use strict';

// Refuses, before anything is packaged, a function whose ENCRYPTION_KEY the authorizer would refuse at its
// first request: .env-template's placeholder is the usual case (the function would deploy, then answer every
// request with 500). Accepted: 64 hex characters, or a reference the authorizer resolves at run time
// (secretsmanager:<id>, ssm:<name>). Resolved by osls through ${file(...)} from the `custom` section; the
// value checked is each function's environment as osls resolved it (.env, ${ssm:...} and all).

const REFERENCE = /^(secretsmanager|ssm):\S+$/;
const KEY = /^[0-9a-fA-F]{64}$/;

module.exports.check = async ({ resolveVariable }) => {
  const functions = (await resolveVariable('self:functions')) || {};
  for (const [name, fn] of Object.entries(functions)) {
    const environment = (fn && fn.environment) || {};
    if (!('ENCRYPTION_KEY' in environment)) continue;
    const key = String(environment.ENCRYPTION_KEY || '').trim();
    if (KEY.test(key) || REFERENCE.test(key)) continue;
    throw new Error(
      `ENCRYPTION_KEY of function ${name} must be 64 hex characters, the OAuth Agent's cookie key ` +
        '(`.venv/bin/oauth-proxy keygen` makes a new one), or a secretsmanager:/ssm: reference; got ' +
        (key ? `${key.length} characters` : 'nothing') +
        ". Edit ENCRYPTION_KEY in .env: .env-template's placeholder is not a key"
    );
  }
  return 'checked';
};
