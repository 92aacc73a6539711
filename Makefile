# The README's two commands: `make demo` and `make test`. Both start from a fresh clone.
.PHONY: demo test build clean

# Run from outside the source tree's import path (no `python -m`), so the installed package is the one used.
demo: build
	cd .venv && bin/python -m oauth_proxy demo

test: build
	.venv/bin/pytest -q

build:
	scripts/bootstrap

clean:
	rm -rf build .venv oauth_proxy/_core*.so *.egg-info
