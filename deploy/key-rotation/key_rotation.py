"""Secrets Manager rotation function for oauth-proxy's cookie encryption key (ENCRYPTION_KEY).

Secrets Manager calls it four times per rotation, with Step = createSecret, setSecret, testSecret and
finishSecret, and the version id of the rotation as ClientRequestToken:
- createSecret: a new random key (64 hexadecimal characters, as `oauth-proxy keygen` prints) becomes the
  version AWSPENDING, unless a previous attempt of this rotation already made it.
- setSecret: nothing. The key has no other home: the OAuth Agent and oauth-proxy both read this secret.
- testSecret: the pending value is a key, and not the current one.
- finishSecret: AWSCURRENT moves to the new version (Secrets Manager moves AWSPREVIOUS to the old one), and
  AWSPENDING is taken off it.
  oauth-proxy decrypts with AWSCURRENT and AWSPREVIOUS, so cookies sealed before the rotation keep working
  until the next one (docs/secrets.md).

Each step can run again (Secrets Manager retries a failed step) and finds its work done. Runs on the Lambda
Python runtime, whose boto3 it uses; its role needs secretsmanager:DescribeSecret, GetSecretValue,
PutSecretValue and UpdateSecretVersionStage on this secret (and kms:GenerateDataKey/Decrypt for a customer key)."""
from __future__ import annotations

import logging
import secrets

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

_HEX = frozenset("0123456789abcdefABCDEF")


def is_key(value: object) -> bool:
    return isinstance(value, str) and len(value.strip()) == 64 and _HEX.issuperset(value.strip())


def handler(event: dict, context: object) -> None:
    # The SDK's standard endpoint settings apply (AWS_ENDPOINT_URL_SECRETS_MANAGER for a VPC endpoint).
    service = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]

    metadata = service.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"rotation is not enabled for {arn}")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise ValueError(f"version {token} of {arn} has no stage for rotation")
    if "AWSCURRENT" in stages[token]:
        logger.info("version %s of %s is already AWSCURRENT", token, arn)
        return
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"version {token} of {arn} is not AWSPENDING")

    if step == "createSecret":
        create_secret(service, arn, token)
    elif step == "setSecret":
        logger.info("setSecret: nothing to set, the key lives only in %s", arn)
    elif step == "testSecret":
        test_secret(service, arn, token)
    elif step == "finishSecret":
        finish_secret(service, arn, token, stages)
    else:
        raise ValueError(f"unknown rotation step {step!r}")


def create_secret(service, arn: str, token: str) -> None:
    service.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")  # the secret exists and can be read
    try:
        service.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: version %s of %s already holds a key", token, arn)
        return
    except service.exceptions.ResourceNotFoundException:
        pass
    service.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=secrets.token_hex(32),
                             VersionStages=["AWSPENDING"])
    logger.info("createSecret: new key stored as version %s (AWSPENDING) of %s", token, arn)


def test_secret(service, arn: str, token: str) -> None:
    pending = service.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    current = service.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    if not is_key(pending):
        raise ValueError(f"version {token} of {arn} is not a 64-hex key")
    if pending.strip().lower() == current.strip().lower():
        raise ValueError(f"version {token} of {arn} repeats the current key")
    logger.info("testSecret: version %s of %s is a new key", token, arn)


def finish_secret(service, arn: str, token: str, stages: dict) -> None:
    current = next((version for version, labels in stages.items() if "AWSCURRENT" in labels), None)
    if current == token:
        return
    service.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                        RemoveFromVersionId=current)
    # No version left AWSPENDING: the next rotation then starts from a clean state in every implementation
    # of the protocol (AWSPENDING on the current version is allowed too, but not understood by all).
    service.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=token)
    logger.info("finishSecret: version %s of %s is AWSCURRENT (was %s)", token, arn, current)
