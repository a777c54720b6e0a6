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
    /// Credentials missing, expired or lacking a permission.
    Auth,
    /// The request was refused as invalid.
    Invalid,
    /// Network trouble or a 5xx: safe to retry for reads.
    Transient,
    /// Anything else.
    Other,
}

/// A failed AWS call: what ekspec was doing, on which resource, and what AWS said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} {resource}: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
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
            c if c.contains("AlreadyExists") || c.contains("Duplicate") => ErrorKind::AlreadyExists,
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

    /// Whether this is a "does not exist" answer.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// A hint for the common cases, shown under the error.
    pub fn hint(&self) -> Option<String> {
        match self.kind {
            ErrorKind::Auth if self.code.as_deref().is_some_and(|c| c.contains("Expired")) => Some(
                "your AWS credentials have expired: refresh them (e.g. `aws sso login`)".to_owned(),
            ),
            ErrorKind::Auth => Some(format!(
                "the caller lacks a permission: allow the IAM action for `{}` on {}",
                self.operation, self.resource
            )),
            ErrorKind::Throttled => {
                Some("AWS kept throttling after retries; try again later".to_owned())
            }
            _ => None,
        }
    }
}
