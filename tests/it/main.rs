//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod cloud_aws;
mod crash;
mod e2e;
mod e2e_fakecloud;
mod examples;
mod executor;
mod hostile_input;
mod iam_policy;
mod invalid_fixtures;
mod inventory;
mod lifecycle_memory;
mod lock;
mod moto;
mod proxy;
mod reconcile_memory;
mod support;
mod validate_cli;
