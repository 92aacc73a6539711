# The README's two commands: `make demo` and `make test`. Both start from a fresh clone.
.PHONY: demo test docs bench build clean offline

# The demo needs the package alone (it has no dependencies): not the test extra's tools.
demo:
	scripts/bootstrap --runtime
	.venv/bin/oauth-proxy demo

# After the suite: the type check of the package, the C format check, the same suite on an ASan+UBSan
# build, valgrind over every outcome, a bounded libFuzzer run of each C parser (HARDENING.md; the long runs
# are second-tier commands listed there), and a threaded stress run of the cookie and phantom paths on a
# ThreadSanitizer build. The docs site is built with --strict after pytest (tests/test_docs.py builds it too).
test: build node_modules/.package-lock.json
	scripts/apt-install chromium  # the browser test (tests/deploy/test_browser.py)
	.venv/bin/pytest -q
	MYPYPATH=src .venv/bin/mypy --strict -p oauth_proxy
	scripts/format-check
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
	scripts/sanitize
	scripts/valgrind
	scripts/fuzz --ci
	scripts/tsan

# osls and serverless-offline for the deployment checks (tests/deploy), from the committed lock file.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# A local API Gateway (serverless-offline) with the authorizer from the built Lambda artifact in front of an
# echo API (or UPSTREAM_API_URL); prints the URL and curl lines (docs/deploy/local.md).
offline: build node_modules/.package-lock.json
	.venv/bin/python scripts/offline

# Side-by-side figures, each script in one process run: ours against a pure-Python reference and the OpenSSL
# floor (writes benchmarks/RESULTS.md); the cookie generations and CSRF modes; verified JWTs per algorithm
# against bare OpenSSL and PyJWT; the cold start with a secret fetched from a loopback AWS emulator; and the
# model of what the authorizer cache saves (writes benchmarks/CACHE_MODEL.md). What each of the middle three
# prints is kept in benchmarks/<NAME>.md (scripts/bench-record).
bench: build
	.venv/bin/python benchmarks/run.py
	scripts/bench-record benchmarks/COOKIE_GENERATIONS.md .venv/bin/python benchmarks/cookie_generations.py
	scripts/bench-record benchmarks/JWT_VERIFY.md .venv/bin/python benchmarks/jwt_verify.py
	scripts/bench-record benchmarks/SECRETS_COLD_START.md .venv/bin/python benchmarks/secrets_cold_start.py
	.venv/bin/python benchmarks/cache_model.py

# The documentation site (mkdocs.yml, docs/) into build/site; --strict: a broken link, anchor or included file fails.
docs: build
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict

build:
	scripts/bootstrap

clean:
	rm -rf build .venv .venv-sanitize .venv-tsan .offline fuzz/out src/oauth_proxy/_core*.so *.egg-info
