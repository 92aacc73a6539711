"""The Python API in a few lines: a configuration, the authorizer, one allowed and one refused request, and the
cookie functions. Run it with the package installed: python quickstart.py"""
import secrets

import oauth_proxy
from oauth_proxy.testing import SpaSession, make_jwt

key_hex = secrets.token_hex(32)  # in real use: the OAuth Agent's key (oauth-proxy keygen makes one)

config = oauth_proxy.Config(trusted_web_origins=["https://www.example.com"], cookie_name_prefix="example",
                            encryption_key=key_hex, required_scopes="orders:read")
# On Lambda, from the function's environment: oauth_proxy.Config.from_env(os.environ)
proxy = oauth_proxy.OAuthProxy(config)  # build it once and reuse it: keys are parsed here

# The event API Gateway sends for an SPA request that carries the OAuth Agent's cookies.
browser = SpaSession(key_hex, "example", "https://www.example.com",
                     token=make_jwt({"sub": "alice", "scope": "openid orders:read"}))
response = proxy.authorize(browser.rest_event("GET", "/orders"))  # the Lambda authorizer response
print("allowed:", response["principalId"], response["policyDocument"]["Statement"][0]["Effect"])

try:
    proxy.authorize(browser.rest_event("GET", "/orders", at_cookie=None))
except oauth_proxy.Unauthorized as denial:  # Lambda reports it; API Gateway answers 401
    print("refused:", denial.status, denial.reason)

cookie = oauth_proxy.encrypt_cookie("a token", key_hex)  # the OAuth Agent's format, fresh random IV
print("decrypted:", oauth_proxy.decrypt_cookie(cookie, key_hex))  # CookieDecryptionError for anything else
