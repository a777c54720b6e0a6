//! ekspec: a declarative Amazon EKS cluster provisioner.
//!
//! Data flows one way: YAML file -> [`spec`] (typed, validated) -> desired resources; live AWS
//! -> observed resources; diff -> plan -> executor. The binary in `main.rs` only parses the
//! command line and maps results to exit codes.

pub mod cli;
pub mod cloud;
pub mod exec;
pub mod export;
pub mod import;
pub mod kubeconfig;
pub mod lock;
pub mod naming;
pub mod plan;
pub mod policy;
pub mod printer;
pub mod progress;
pub mod resources;
pub mod spec;
pub mod timeline;
