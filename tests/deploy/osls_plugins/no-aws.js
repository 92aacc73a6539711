'use strict';

// Loaded only by the tests (never by a deployment description users run).
// `osls package` of a service with layers asks CloudFormation whether the
// layer is already deployed (describeStacks). Offline, that question gets the
// answer of a first deployment, "the stack does not exist", and any other AWS
// call fails at once, so packaging never reaches for credentials or network.
class NoAws {
  constructor(serverless) {
    const provider = serverless.getProvider('aws');
    provider.request = async (service, method) => {
      if (service === 'CloudFormation' && method === 'describeStacks') {
        throw new Error('Stack with id offline does not exist');
      }
      throw new Error(`offline test: unexpected AWS call ${service}.${method}`);
    };
  }
}

module.exports = NoAws;
