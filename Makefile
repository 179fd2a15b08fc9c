# Switchboard: `make run` to serve, `make test` for the whole suite.
SHELL := /bin/bash
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run dev build check test bench sqlx-prepare clean-data

## run: install what is missing, build (release), serve on http://127.0.0.1:3000
run:
	scripts/install-tools --release
	scripts/build --release
	exec ./target/release/switchboard serve

## dev: a debug build (quicker to compile), served on http://127.0.0.1:3000
dev: build
	exec ./target/debug/switchboard serve

## build: a debug build of the server and the WASM bundle
build:
	scripts/install-tools
	scripts/build

## check: the quick tier: format, clippy, unit tests, the engine's SQL
## against PostgreSQL, the JavaScript's types and unit tests
check:
	scripts/install-tools --check
	scripts/check

## test: the whole suite (make check, then integration against real
## PostgreSQL, browser tests, the benchmarks at a tiny size)
test:
	scripts/install-tools --test
	scripts/test

## bench: the engine through the server against its own SQL run bare by
## pgbench, live positions for 10,000 waiting pages on one and two servers,
## the metrics dashboard, Accept to the first video frame of a call and of a
## colleague joining, and the CPU of a customer's page in a three-party call
## (prints figures)
bench:
	scripts/install-tools --test
	scripts/bench

## sqlx-prepare: refresh .sqlx/ (the offline query data) after changing SQL
sqlx-prepare:
	scripts/sqlx-prepare

## clean-data: delete the embedded database (all local data!)
clean-data:
	rm -rf data/postgres
