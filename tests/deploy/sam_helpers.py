"""Offline rendering of AWS SAM templates: what `sam deploy` does before it
hands the template to CloudFormation, without AWS credentials or network.

`sam package` uploads each local CodeUri/ContentUri to S3 and writes the S3
URI into the template; aws-sam-translator (the library behind the SAM
transform) then turns the AWS::Serverless::* resources into CloudFormation.
`evaluate` resolves the intrinsic functions for given parameter values, so the
tests can check the values API Gateway would see."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# Local-path properties `sam package` uploads, by resource type.
PACKAGED = {"AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri"}


def load(path: Path) -> dict:
    """The template as plain dicts (the short-form tags such as !Ref expanded), as SAM CLI reads it."""
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def package(template: dict, base: Path) -> dict[str, str]:
    """Replace every local code path with an S3 URI, as `sam package` does after uploading it (a zip as
    it is, a folder zipped). Returns {logical id: the local path as written}; each must exist under `base`."""
    local = {}
    for name, resource in template["Resources"].items():
        prop = PACKAGED.get(resource["Type"])
        if prop is None:
            continue
        value = resource["Properties"][prop]
        assert isinstance(value, str) and not value.startswith("s3://"), (name, value)
        assert (base / value).exists(), f"{name}: {value} does not exist under {base}"
        local[name] = value
        resource["Properties"][prop] = f"s3://sam-artifacts/{name}.zip"
    return local


def translate(template: dict) -> dict:
    """The SAM transform, run locally. The transform reads only the region from its boto3 session (for
    ARNs); a stand-in that holds nothing else keeps AWS configuration and credentials out of it."""
    from types import SimpleNamespace

    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    session = SimpleNamespace(region_name="us-east-1")
    # Only `Policies: [<managed policy name>]` consults this map; the templates here name none.
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    try:
        return translator.translate(json.loads(json.dumps(template)), parameter_values={})
    except InvalidDocumentException as e:
        raise AssertionError("SAM transform failed: " + "; ".join(str(c) for c in e.causes)) from e


def parameters(template: dict, **given: str) -> dict[str, str]:
    """Parameter values as CloudFormation would take them: the given ones, else the defaults."""
    declared = template.get("Parameters", {})
    unknown = set(given) - set(declared)
    assert not unknown, unknown
    values = {k: str(v["Default"]) for k, v in declared.items() if "Default" in v}
    values.update(given)
    missing = set(declared) - set(values)
    assert not missing, f"no value for {sorted(missing)}"
    return values


def conditions(template: dict, params: dict[str, str]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for name, expr in template.get("Conditions", {}).items():
        out[name] = bool(evaluate(expr, params, out))
    return out


def present(template: dict, params: dict[str, str]) -> dict[str, dict]:
    """The resources a stack with these parameter values would hold."""
    conds = conditions(template, params)
    return {k: v for k, v in template["Resources"].items() if conds.get(v.get("Condition"), True)}


def evaluate(node: Any, params: dict[str, str], conds: dict[str, bool] | None = None) -> Any:
    """Resolve Ref, Fn::Sub, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Split and Fn::Join against parameter
    values.
    What only a deployment knows (resource ids, attributes, pseudo parameters) becomes "<name>"."""
    conds = conds or {}

    def ev(n: Any) -> Any:
        if isinstance(n, list):
            return [ev(x) for x in n]
        if not isinstance(n, dict):
            return n
        if len(n) == 1:
            (key, arg), = n.items()
            if key == "Ref":
                return params.get(arg, f"<{arg}>")
            if key == "Fn::GetAtt":
                return "<{}>".format(".".join(arg) if isinstance(arg, list) else arg)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], ev(arg[1]))

                def sub(m: re.Match) -> str:
                    name = m.group(1)
                    if name in extra:
                        return str(extra[name])
                    return str(params.get(name, f"<{name}>"))
                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::If":
                name, yes, no = arg
                return ev(yes if conds[name] else no)
            if key == "Condition":
                return conds[arg]
            if key == "Fn::Equals":
                a, b = ev(arg)
                return a == b
            if key == "Fn::Not":
                return not ev(arg[0])
            if key == "Fn::And":
                return all(ev(a) for a in arg)
            if key == "Fn::Or":
                return any(ev(a) for a in arg)
            if key == "Fn::Split":
                sep, text = ev(arg)
                return text.split(sep)
            if key == "Fn::Join":
                sep, parts = ev(arg)
                return sep.join(str(p) for p in parts)
        return {k: ev(v) for k, v in n.items()}

    return ev(node)


def camel(variable: str) -> str:
    """The template parameter that carries a configuration variable: LOG_LEVEL -> LogLevel."""
    return "".join(word.capitalize() for word in variable.split("_"))
