"""handler.handler from the unpacked artifact, as serverless-offline can run it.

The artifact is unpacked into OFFLINE_TASK_DIR (scripts/offline does that), which goes first on the import
path, so `handler` and `oauth_proxy` are the zip's, not an installed copy. scripts/offline also runs the
functions with `python -I -S` (no site-packages), so nothing else could supply them.

On AWS, the Lambda runtime reports a raised exception and API Gateway answers 401 when its message is
"Unauthorized". serverless-offline's Python runner (its invoke.py) has no exception handling: the runner
process dies and the request waits for the function timeout. This adapter turns exactly that exception into
the result "Unauthorized", which serverless-offline answers with 401 as API Gateway does; every other
outcome passes through unchanged.
"""

import os
import sys

sys.path.insert(0, os.environ["OFFLINE_TASK_DIR"])

import handler  # noqa: E402 - the artifact's, from the path set above
from oauth_proxy import Unauthorized  # noqa: E402


def authorize(event, context):
    try:
        return handler.handler(event, context)
    except Unauthorized:
        return "Unauthorized"
