'use strict';

// IAM statements that let the authorizer read the secrets its configuration
// names by reference (docs/secrets.md): ENCRYPTION_KEY, CLIENT_SECRET and the
// items of PREVIOUS_ENCRYPTION_KEYS, when they are `secretsmanager:<name or
// ARN>` or `ssm:<name or ARN>`. Each statement allows one read on one
// resource; kms:Decrypt is added on SECRETS_KMS_KEY_ARN when that is set (a
// customer managed key). No reference: no statement. Resolved by osls through
// ${file(...)}, with .env already loaded into process.env; the region and
// account come from the deployment (CloudFormation pseudo parameters).

const SECRETS_MANAGER = 'secretsmanager:';
const PARAMETER_STORE = 'ssm:';

function references() {
  const env = process.env;
  const items = [env.ENCRYPTION_KEY, env.CLIENT_SECRET]
    .concat((env.PREVIOUS_ENCRYPTION_KEYS || '').split(','))
    .map((s) => (s || '').trim())
    .filter((s) => s.startsWith(SECRETS_MANAGER) || s.startsWith(PARAMETER_STORE));
  return [...new Set(items)];
}

function here(service, rest) {
  return { 'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}` };
}

function resource(reference) {
  if (reference.startsWith(SECRETS_MANAGER)) {
    const id = reference.slice(SECRETS_MANAGER.length);
    // A name, not an ARN: Secrets Manager appends a dash and six random
    // characters to it in the secret's ARN.
    return id.startsWith('arn:') ? id : here('secretsmanager', `secret:${id}-??????`);
  }
  const id = reference.slice(PARAMETER_STORE.length).replace(/:[^/:]*$/, ''); // no :version or :label
  if (id.startsWith('arn:')) {
    return id;
  }
  return here('ssm', `parameter${id.startsWith('/') ? '' : '/'}${id}`);
}

module.exports.statements = () => {
  const statements = references().map((reference) => ({
    Effect: 'Allow',
    Action: reference.startsWith(SECRETS_MANAGER) ? 'secretsmanager:GetSecretValue' : 'ssm:GetParameter',
    Resource: resource(reference),
  }));
  const kmsKey = (process.env.SECRETS_KMS_KEY_ARN || '').trim();
  if (statements.length > 0 && kmsKey) {
    statements.push({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: kmsKey });
  }
  return statements;
};
