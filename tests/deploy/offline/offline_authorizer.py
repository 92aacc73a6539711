"""handler.handler as serverless-offline can run it.

On AWS, the Lambda runtime reports a raised exception and API Gateway answers
401 when its message is "Unauthorized". serverless-offline's Python runner
(its invoke.py) has no exception handling: the runner process dies and the
request waits for the function timeout. This adapter turns exactly that
exception into the result "Unauthorized", which serverless-offline answers
with 401 as API Gateway does; every other outcome passes through unchanged.
"""

import handler
from oauth_proxy import Unauthorized


def authorize(event, context):
    try:
        return handler.handler(event, context)
    except Unauthorized:
        return "Unauthorized"
