//! Names of the AWS resources ekspec derives from a spec, in one place.

/// IAM limits role names to 64 characters.
pub const MAX_ROLE_NAME: usize = 64;

/// The tag that marks a resource as owned by a cluster.
pub const CLUSTER_TAG: &str = "ekspec.io/cluster";
/// The tag that holds a resource's logical id within its cluster.
pub const RESOURCE_TAG: &str = "ekspec.io/resource";
/// Tag prefix reserved for ekspec itself.
pub const RESERVED_TAG_PREFIX: &str = "ekspec.io/";

/// IAM path of every role ekspec creates for `cluster`.
pub fn iam_path(cluster: &str) -> String {
    format!("/ekspec/{cluster}/")
}

/// Name of the EKS cluster service role.
pub fn cluster_role(cluster: &str) -> String {
    format!("{cluster}-cluster")
}

/// Name of the role the managed node groups' instances use.
pub fn node_role(cluster: &str) -> String {
    format!("{cluster}-node")
}

/// Name of the Fargate pod execution role.
pub fn fargate_role(cluster: &str) -> String {
    format!("{cluster}-fargate")
}

/// Default name of the IRSA role of a service account.
pub fn irsa_role(cluster: &str, namespace: &str, name: &str) -> String {
    format!("{cluster}-{namespace}-{name}")
}

/// Whether `name` uses only the characters IAM allows in role names.
pub fn is_valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ROLE_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}
