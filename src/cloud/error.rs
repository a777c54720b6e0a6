//! Errors from AWS, classified so the executor knows what it may retry.

/// What kind of failure AWS reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The resource does not exist.
    NotFound,
    /// The resource already exists (a retried create).
    AlreadyExists,
    /// The resource is busy (another update runs, a dependency still holds it).
    InUse,
    /// Too many requests; retried with backoff.
    Throttled,
    /// Credentials refused by AWS (expired, not valid there) or lacking a permission.
    Auth,
    /// The request was refused as invalid.
    Invalid,
    /// Network trouble or a 5xx: safe to retry for reads.
    Transient,
    /// Anything else.
    Other,
    /// No credentials could be found or loaded on this machine (nothing reached AWS).
    Credentials,
}

/// The `operation` of a failure to find or load credentials before any call.
pub const LOAD_CREDENTIALS: &str = "LoadCredentials";

/// A failed AWS call: what ekspec was doing, on which resource, and what AWS said.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{}{}{message}{}",
    self.call(),
    code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
    self.hint().map(|h| format!("\n  hint: {h}")).unwrap_or_default()
)]
pub struct CloudError {
    /// The API operation, e.g. `CreateNodegroup`.
    pub operation: &'static str,
    /// The resource it was about.
    pub resource: String,
    /// AWS's error code, e.g. `ResourceInUseException`.
    pub code: Option<String>,
    /// AWS's message (or the transport error).
    pub message: String,
    /// Classification.
    pub kind: ErrorKind,
}

impl CloudError {
    /// Classifies an AWS error code.
    pub fn kind_of(code: &str) -> ErrorKind {
        match code {
            c if c.contains("NotFound") || c.starts_with("NoSuch") || c.ends_with(".NotFound") => {
                ErrorKind::NotFound
            }
            "ResourceNotFoundException" => ErrorKind::NotFound,
            // SQS answers with its query-protocol codes (`x-amzn-query-error`).
            "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" => ErrorKind::NotFound,
            // "You must wait 60 seconds after deleting a queue before you can create another
            // queue with the same name": the name is held, then free.
            "AWS.SimpleQueueService.QueueDeletedRecently" | "QueueDeletedRecently" => {
                ErrorKind::InUse
            }
            "QueueNameExists" => ErrorKind::AlreadyExists,
            c if c.contains("AlreadyExists") || c.contains("Duplicate") => ErrorKind::AlreadyExists,
            // EC2's busy answers (`InvalidIPAddress.InUse` while an address is still mapped,
            // `InvalidNetworkInterface.InUse` while an interface is attached) start with
            // `Invalid` but are dependencies that clear, not bad input.
            c if c.ends_with(".InUse") => ErrorKind::InUse,
            "ResourceInUseException"
            | "ResourceInUse"
            | "DependencyViolation"
            | "DeleteConflict" => ErrorKind::InUse,
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown"
            | "DependencyThrottle" => ErrorKind::Throttled,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "AuthFailure"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch" => ErrorKind::Auth,
            "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServerException"
            | "ServiceUnavailableException" => ErrorKind::Transient,
            c if c.starts_with("Invalid")
                || c.contains("Validation")
                || c.contains("Malformed") =>
            {
                ErrorKind::Invalid
            }
            _ => ErrorKind::Other,
        }
    }

    /// "`operation` `resource`: " for a failed call; nothing before the message when
    /// credentials were not found, as no call was made.
    fn call(&self) -> String {
        if self.operation == LOAD_CREDENTIALS {
            String::new()
        } else {
            format!("{} {}: ", self.operation, self.resource)
        }
    }

    /// The profile credentials were looked up in, when one was named (resource "profile `x`").
    fn profile(&self) -> Option<&str> {
        self.resource
            .strip_prefix("profile `")
            .and_then(|rest| rest.strip_suffix('`'))
    }

    /// Whether this is a "does not exist" answer.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// The IAM action and resource AWS named in an access-denied message
    /// (`... is not authorized to perform: eks:CreateCluster on resource: arn:...`).
    pub fn denied_action(&self) -> Option<(String, String)> {
        let (_, rest) = self.message.split_once("not authorized to perform: ")?;
        let action = rest.split_whitespace().next()?.trim_end_matches([',', '.']);
        let resource = rest
            .split_once(" on resource: ")
            .and_then(|(_, r)| r.split_whitespace().next())
            .map_or_else(
                || "the resource".to_owned(),
                |r| r.trim_end_matches([',', '.']).to_owned(),
            );
        Some((action.to_owned(), resource))
    }

    /// A hint for the common cases, shown under the error.
    pub fn hint(&self) -> Option<String> {
        match self.kind {
            ErrorKind::Auth if self.code.as_deref().is_some_and(|c| c.contains("Expired")) => Some(
                "your AWS credentials have expired: refresh them (e.g. `aws sso login`)".to_owned(),
            ),
            ErrorKind::Auth => Some(match self.denied_action() {
                Some((action, resource)) => format!(
                    "the caller may not `{action}` on {resource}: allow it in the caller's IAM policy (docs/iam-policy.json lists what ekspec needs)"
                ),
                None => format!(
                    "the caller lacks a permission for `{}` on {}, or its credentials are not valid here: check the IAM policy (docs/iam-policy.json) and the credentials",
                    self.operation, self.resource
                ),
            }),
            ErrorKind::Credentials => Some(credentials_hint(self.profile())),
            ErrorKind::Throttled => {
                Some("AWS kept throttling after retries; try again later".to_owned())
            }
            _ => match self.code.as_deref() {
                // UpdateClusterVersion blocked by upgrade insights (EKS API reference).
                Some("InvalidStateException") if self.operation == "UpdateClusterVersion" => {
                    let cluster = self.resource.strip_prefix("cluster ").unwrap_or(&self.resource);
                    Some(format!(
                        "EKS upgrade insights found issues that block this upgrade: list them with `aws eks list-insights --cluster-name {cluster} --filter kinds=UPGRADE_READINESS`, fix them, or run `ekspec apply --force-upgrade` to upgrade anyway"
                    ))
                }
                Some("UnsupportedAvailabilityZoneException") => Some(
                    "EKS does not take one of spec.vpc.availabilityZones for a control plane: list only zones EKS names above, or use zoneCount (it picks zones EKS takes)".to_owned(),
                ),
                _ => None,
            },
        }
    }
}

/// The ways to give ekspec credentials, one a line (the same as the AWS CLI's).
fn credentials_hint(profile: Option<&str>) -> String {
    let name = profile.unwrap_or("NAME");
    format!(
        "provide AWS credentials in one of these ways:
    - environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)
    - a profile from ~/.aws/credentials or ~/.aws/config: --profile {name} or AWS_PROFILE={name}
    - SSO: `aws sso login --profile {name}`, then --profile {name}
    - a role: a profile with role_arn and source_profile, or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (CI's OIDC)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(code: &str, message: &str) -> CloudError {
        CloudError {
            operation: "CreateCluster",
            resource: "cluster prod".to_owned(),
            code: Some(code.to_owned()),
            message: message.to_owned(),
            kind: CloudError::kind_of(code),
        }
    }

    #[test]
    fn access_denied_names_the_iam_action_and_resource() {
        let error = denied(
            "AccessDeniedException",
            "User: arn:aws:sts::111122223333:assumed-role/ci/gha is not authorized to perform: eks:CreateCluster on resource: arn:aws:eks:us-east-1:111122223333:cluster/prod",
        );
        assert_eq!(
            error.denied_action(),
            Some((
                "eks:CreateCluster".to_owned(),
                "arn:aws:eks:us-east-1:111122223333:cluster/prod".to_owned()
            ))
        );
        let text = error.to_string();
        assert!(
            text.ends_with("hint: the caller may not `eks:CreateCluster` on arn:aws:eks:us-east-1:111122223333:cluster/prod: allow it in the caller's IAM policy (docs/iam-policy.json lists what ekspec needs)"),
            "{text}"
        );
    }

    #[test]
    fn busy_ec2_resources_are_in_use_not_invalid() {
        for code in [
            "InvalidIPAddress.InUse",
            "InvalidNetworkInterface.InUse",
            "DependencyViolation",
        ] {
            assert_eq!(CloudError::kind_of(code), ErrorKind::InUse, "{code}");
        }
        assert_eq!(
            CloudError::kind_of("InvalidParameterValue"),
            ErrorKind::Invalid
        );
        assert_eq!(
            CloudError::kind_of("InvalidNetworkInterfaceID.NotFound"),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn expired_credentials_say_so_and_other_errors_have_no_hint() {
        let expired = denied(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        );
        assert!(
            expired
                .to_string()
                .contains("hint: your AWS credentials have expired")
        );
        let other = denied("InvalidParameterException", "bad subnet");
        assert_eq!(
            other.to_string(),
            "CreateCluster cluster prod: InvalidParameterException: bad subnet"
        );
    }
}
