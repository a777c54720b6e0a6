//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod action;
mod cloud_aws;
mod crash;
mod e2e;
mod e2e_fakecloud;
mod e2e_lifecycle;
mod eks_mocks;
mod examples;
mod executor;
mod faults;
mod fuzz_smoke;
mod hostile_input;
mod iam_policy;
mod import_eksctl;
mod in_flight;
mod invalid_fixtures;
mod inventory;
mod karpenter_interruption;
mod kubeconfig_cli;
mod kubeconfig_corpus;
mod least_privilege;
mod lifecycle_memory;
mod lock;
mod moto;
mod pod_identity_cloud;
mod proxy;
mod reconcile_memory;
mod strict_cluster;
mod strict_ec2;
mod strict_fargate_iam;
mod strict_nodegroups;
mod support;
mod transitions;
mod validate_cli;
