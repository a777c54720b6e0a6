//! AWS SDK implementation of the cloud traits: EC2 (`ec2`), Elastic Load Balancing (`elb`),
//! IAM and STS (`iam`), EKS (`eks`, `pod_identity`), SSM Parameter Store (`ssm`), SQS
//! (`sqs`), EventBridge (`eventbridge`).
//!
//! Every SDK failure goes through `AwsContext::context`, which names the API operation and
//! the resource and classifies AWS's error code, so call sites never convert errors by hand.

/// Every item of a paginated list or describe (the paginator follows NextToken), with
/// failures converted by `AwsContext::context`.
macro_rules! all_items {
    ($request:expr, $operation:expr, $resource:expr) => {
        $request
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .context($operation, $resource)
    };
}

mod ec2;
mod eks;
mod elb;
mod eventbridge;
mod iam;
mod in_flight;
mod pod_identity;
mod sqs;
mod ssm;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;

use super::error::LOAD_CREDENTIALS;
use super::{Cloud, CloudError, CloudResult, ErrorKind};
pub use in_flight::InFlight;
use in_flight::{Capped, default_https_client};

/// The SDK's error type (the same for every service crate).
type SdkError<E> = aws_sdk_sts::error::SdkError<E>;

/// How to reach AWS.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// A named profile from `~/.aws/config`; `None` uses the standard chain.
    pub profile: Option<String>,
    /// Send every request here instead of AWS (moto, fakecloud, LocalStack).
    pub endpoint_url: Option<String>,
    /// Static `(access key id, secret access key)`, used instead of the standard chain when set
    /// (tests against an emulator).
    pub credentials: Option<(String, String)>,
    /// Send every request through this HTTP client instead of the SDK's default. `None` in the
    /// CLI; the benchmarks put a simulated AWS here (latency, transitional states, throttling).
    pub http_client: Option<aws_sdk_sts::config::SharedHttpClient>,
    /// How many requests each service may have in flight at once (default: AWS's bursts).
    pub in_flight: InFlight,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<static>"),
            )
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<custom>"),
            )
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

/// The AWS account behind the cloud traits: one SDK client per service.
#[derive(Clone, Debug)]
pub struct AwsCloud {
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    eks: aws_sdk_eks::Client,
    ssm: aws_sdk_ssm::Client,
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
}

impl AwsCloud {
    /// Clients for every service from one loaded SDK configuration, each with AWS's cap on
    /// requests in flight ([`InFlight::default`]).
    pub fn new(config: &SdkConfig) -> Self {
        Self::with_in_flight(config, InFlight::default())
    }

    /// Clients for every service, each sending at most `in_flight`'s number of requests at
    /// once through the configuration's HTTP client (or the SDK's default one).
    pub fn with_in_flight(config: &SdkConfig, in_flight: InFlight) -> Self {
        let http = config.http_client().unwrap_or_else(default_https_client);
        // The SDK's check for a stalled upload starts its clock before the request reaches the
        // HTTP client, so a request that waits over 5 s for its place fails as a stalled upload
        // ("minimum throughput ... 0 B/s"). ekspec's request bodies are small documents: the
        // check stays on for downloads only.
        let stalled = StalledStreamProtectionConfig::enabled()
            .upload_enabled(false)
            .build();
        let capped = |cap: usize| {
            config
                .to_builder()
                .http_client(Capped::new(http.clone(), cap))
                .stalled_stream_protection(stalled.clone())
                .build()
        };
        // A service's client: capped, with its own retry partition.
        macro_rules! client {
            ($sdk:ident, $cap:expr, $name:literal) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&capped($cap))
                        .retry_partition(retry_partition($name))
                        .build(),
                )
            };
        }
        Self {
            ec2: client!(aws_sdk_ec2, in_flight.ec2, "ec2"),
            elb: client!(aws_sdk_elasticloadbalancing, in_flight.elb, "elb"),
            elbv2: client!(aws_sdk_elasticloadbalancingv2, in_flight.elb, "elbv2"),
            iam: client!(aws_sdk_iam, in_flight.iam, "iam"),
            sts: client!(aws_sdk_sts, in_flight.sts, "sts"),
            eks: client!(aws_sdk_eks, in_flight.eks, "eks"),
            ssm: client!(aws_sdk_ssm, in_flight.ssm, "ssm"),
            sqs: client!(aws_sdk_sqs, in_flight.sqs, "sqs"),
            events: client!(aws_sdk_eventbridge, in_flight.events, "events"),
        }
    }

    /// The same handle with another EKS client: tests answer EKS calls with SDK mocks this
    /// way and still run every line of the AWS layer above the transport.
    pub fn with_eks(self, eks: aws_sdk_eks::Client) -> Self {
        Self { eks, ..self }
    }

    /// The same handle with another EC2 client (tests answer with SDK mocks).
    pub fn with_ec2(self, ec2: aws_sdk_ec2::Client) -> Self {
        Self { ec2, ..self }
    }

    /// The same handle with another SQS client (tests answer with SDK mocks).
    pub fn with_sqs(self, sqs: aws_sdk_sqs::Client) -> Self {
        Self { sqs, ..self }
    }

    /// The same handle with another EventBridge client (tests answer with SDK mocks).
    pub fn with_events(self, events: aws_sdk_eventbridge::Client) -> Self {
        Self { events, ..self }
    }

    /// The cloud handle the reconciler uses.
    pub fn into_cloud(self) -> Cloud {
        Cloud {
            network: Box::new(self.clone()),
            identity: Box::new(self.clone()),
            kubernetes: Box::new(self.clone()),
            parameters: Box::new(self.clone()),
            pod_identity: Box::new(self.clone()),
            queues: Box::new(self.clone()),
            events: Box::new(self),
        }
    }
}

/// Loads the AWS configuration (standard credential chain unless static credentials are given),
/// checks that credentials can be found, and returns the cloud handle.
pub async fn connect(options: &ConnectOptions) -> Result<Cloud, CloudError> {
    let config = load_config(options).await;
    resolve_credentials(&config, options.profile.as_deref()).await?;
    Ok(AwsCloud::with_in_flight(&config, options.in_flight).into_cloud())
}

/// Credentials to sign with: the standard chain's (or the static ones), or, with `role_arn`,
/// those of a session of that role assumed with them (session name `ekspec-token`).
pub async fn signing_credentials(
    options: &ConnectOptions,
    role_arn: Option<&str>,
) -> CloudResult<Credentials> {
    let config = load_config(options).await;
    let base = resolve_credentials(&config, options.profile.as_deref()).await?;
    let Some(role_arn) = role_arn else {
        return Ok(base);
    };
    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name("ekspec-token")
        .configure(&config)
        .build()
        .await;
    provider.provide_credentials().await.map_err(|error| {
        let resource = format!("role {role_arn}");
        match assume_role_failure(&error) {
            // Refused, unreachable, throttled: classified like every other call.
            Some(failure) => cloud_error("AssumeRole", resource, failure),
            None => CloudError {
                operation: "AssumeRole",
                resource,
                code: None,
                message: messages(&error),
                kind: ErrorKind::Auth,
            },
        }
    })
}

/// The region the standard chain names (AWS_REGION, AWS_DEFAULT_REGION, the profile's
/// `region`), for commands that take no spec.
pub async fn default_region(profile: Option<&str>) -> Option<String> {
    let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
    if let Some(profile) = profile {
        chain = chain.profile_name(profile);
    }
    chain.build().region().await.map(|r| r.to_string())
}

/// The SDK configuration `options` ask for.
async fn load_config(options: &ConnectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(options.region.clone()))
        .retry_config(retry_config());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((key, secret)) = &options.credentials {
        loader = loader.credentials_provider(Credentials::new(
            key.clone(),
            secret.clone(),
            None,
            None,
            "ekspec-static",
        ));
    }
    if let Some(client) = &options.http_client {
        loader = loader.http_client(client.clone());
    }
    loader.load().await
}

/// The failed STS call inside a failed AssumeRole credential provider.
fn assume_role_failure(error: &CredentialsError) -> Option<&SdkError<AssumeRoleError>> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(failure) = cause.downcast_ref() {
            return Some(failure);
        }
        source = cause.source();
    }
    None
}

/// How every client retries: adaptive, so the SDK backs off on throttling and rate-limits
/// itself; throttling, 5xx answers and connection failures are retried, other errors are not.
/// Up to 25 attempts, terraform-provider-aws's default (`max_retries`): with 500 roles and a
/// throttling IAM, 8 left 95 throttled out (`retry_partition` keeps 5xx answers and timeouts
/// from retrying that long against a failing service).
pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(25)
}

/// A service client's retry partition: its own adaptive rate limiter (throttling slows what
/// the client sends) and a retry quota that throttling does not spend.
///
/// The SDK's default quota (500 per service and region, 5 per throttled retry) runs out after
/// about 100 throttled retries, and every call after that fails at its first throttling answer:
/// 500 IRSA roles created at once failed with "Throttling: Rate exceeded". The quota is there
/// to stop retry storms against a failing service; a throttling answer is the service asking
/// the client to slow down, which the adaptive rate limiter does. So throttled retries are
/// free, and 5xx answers and timeouts still spend the default quota (5 and 10 of 500). Other
/// tools on AWS's SDKs do the same: terraform-provider-aws and eksctl turned the SDK's retry
/// quota off (`ratelimit.None`) after "failed to get rate limit token, retry quota exceeded"
/// (hashicorp/terraform-provider-aws#36094, eksctl-io/eksctl#7877).
///
/// Each call makes a new partition, so each client paces itself: the SDK's default partition
/// (one per service name) is shared by every client in the process, and one client's throttling
/// would slow the others (tests with SDK mocks use this for that reason, as the real run does).
pub fn retry_partition(service: &'static str) -> RetryPartition {
    RetryPartition::custom(service)
        .token_bucket(TokenBucket::builder().throttling_retry_cost(0).build())
        .build()
}

/// Resolves credentials once, so a missing or broken setup fails before any plan is made.
async fn resolve_credentials(
    config: &SdkConfig,
    profile: Option<&str>,
) -> CloudResult<Credentials> {
    let failure = |message: String| CloudError {
        operation: LOAD_CREDENTIALS,
        resource: profile.map_or_else(
            || "the default credential chain".to_owned(),
            |profile| format!("profile `{profile}`"),
        ),
        code: None,
        message,
        kind: ErrorKind::Credentials,
    };
    let Some(provider) = config.credentials_provider() else {
        return Err(failure(
            "no AWS credential provider is configured".to_owned(),
        ));
    };
    provider
        .provide_credentials()
        .await
        .map_err(|error| failure(credentials_failure(&error, profile)))
}

/// What is missing or broken, in words: where the chain looked when it found nothing, else
/// the SDK's messages without its debug dump.
fn credentials_failure(error: &CredentialsError, profile: Option<&str>) -> String {
    match (error, profile) {
        (CredentialsError::CredentialsNotLoaded(_), Some(profile)) => format!(
            "no AWS credentials found: none in the environment, and profile `{profile}` is not in ~/.aws/config or ~/.aws/credentials or has none"
        ),
        (CredentialsError::CredentialsNotLoaded(_), None) => "no AWS credentials found: none in \
the environment, in the default profile (~/.aws/config, ~/.aws/credentials), from a web \
identity token, or from container or instance metadata"
            .to_owned(),
        (_, Some(profile)) => format!(
            "could not load the AWS credentials of profile `{profile}`: {}",
            provider_messages(error)
        ),
        (_, None) => format!(
            "could not load AWS credentials: {}",
            provider_messages(error)
        ),
    }
}

/// What the credential providers said under the SDK's generic "an error occurred while
/// loading credentials" (one per provider the chain nests).
fn provider_messages(error: &(dyn StdError + 'static)) -> String {
    let mut cause = error;
    while cause.is::<CredentialsError>()
        && let Some(next) = cause.source()
    {
        cause = next;
    }
    messages(cause)
}

/// An error's message and its causes', joined by ": ", each said once (the SDK's credential
/// providers nest "an error occurred while loading credentials"), without `Debug` output.
fn messages(error: &(dyn StdError + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = current.to_string();
        if !said.contains(&text) {
            said.push(text);
        }
        cause = current.source();
    }
    said.join(": ")
}

/// Adds the operation and resource to an AWS failure and classifies it.
pub(crate) trait AwsContext<T> {
    /// `operation` is the API name (`CreateNodegroup`); `resource` says what it was about
    /// (`node group demo/system-1a2b3c4d`).
    fn context(self, operation: &'static str, resource: impl fmt::Display) -> CloudResult<T>;
}

impl<T, E> AwsContext<T> for Result<T, SdkError<E>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn context(self, operation: &'static str, resource: impl fmt::Display) -> CloudResult<T> {
        self.map_err(|error| cloud_error(operation, resource.to_string(), &error))
    }
}

impl<T> AwsContext<T> for Result<T, BuildError> {
    fn context(self, operation: &'static str, resource: impl fmt::Display) -> CloudResult<T> {
        self.map_err(|error| CloudError {
            operation,
            resource: resource.to_string(),
            code: None,
            message: DisplayErrorContext(&error).to_string(),
            kind: ErrorKind::Invalid,
        })
    }
}

/// The one conversion from an SDK error to a [`CloudError`].
fn cloud_error<E>(operation: &'static str, resource: String, error: &SdkError<E>) -> CloudError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    // Credentials are resolved while sending: an expired SSO session shows up here.
    if !matches!(error, SdkError::ServiceError(_))
        && let Some(failure) = credentials_error(error)
    {
        return CloudError {
            operation,
            resource,
            code: None,
            message: format!(
                "could not load AWS credentials: {}",
                provider_messages(failure)
            ),
            kind: ErrorKind::Credentials,
        };
    }
    let chain = || DisplayErrorContext(error).to_string();
    let (code, message, kind) = match error {
        SdkError::ServiceError(failure) => {
            let code = error.code().map(str::to_owned);
            let kind = match code.as_deref().map(CloudError::kind_of) {
                // An unknown code or none at all (an HTML error page) on a 5xx.
                None | Some(ErrorKind::Other) if failure.raw().status().is_server_error() => {
                    ErrorKind::Transient
                }
                // No code at all on a 404: the operation or the resource is unknown there.
                None if failure.raw().status().as_u16() == 404 => ErrorKind::NotFound,
                kind => kind.unwrap_or(ErrorKind::Other),
            };
            let message = error.message().map_or_else(chain, str::to_owned);
            (code, message, kind)
        }
        SdkError::ConstructionFailure(_) => (None, chain(), ErrorKind::Invalid),
        SdkError::DispatchFailure(failure) if failure.is_user() => {
            (None, chain(), ErrorKind::Other)
        }
        SdkError::TimeoutError(_) => (
            None,
            "no answer from AWS in time (timeout)".to_owned(),
            ErrorKind::Transient,
        ),
        // Connection failures and unreadable responses.
        _ => (
            None,
            format!("could not reach AWS: {}", root_cause(error)),
            ErrorKind::Transient,
        ),
    };
    CloudError {
        operation,
        resource,
        code,
        message,
        kind,
    }
}

/// The innermost error of a chain (`Connection refused (os error 111)`), which says what went
/// wrong without the SDK's layers of wrapping.
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The failure to load credentials inside a failed call, if that is why it failed.
fn credentials_error<'e>(
    error: &'e (dyn StdError + 'static),
) -> Option<&'e (dyn StdError + 'static)> {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.is::<CredentialsError>() {
            return Some(cause);
        }
        source = cause.source();
    }
    None
}

/// Turns "does not exist" into `None`: deletes are idempotent and reads of a missing
/// resource are answers, not failures.
pub(crate) trait OrGone<T> {
    /// `Ok(None)` when the error is a NotFound.
    fn or_gone(self) -> CloudResult<Option<T>>;
}

impl<T> OrGone<T> for CloudResult<T> {
    fn or_gone(self) -> CloudResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// An optional string field, empty when AWS left it out.
pub(crate) fn string(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

/// A field AWS should always return but did not.
pub(crate) fn required<T>(
    value: Option<T>,
    field: &str,
    operation: &'static str,
    resource: impl fmt::Display,
) -> CloudResult<T> {
    value.ok_or_else(|| CloudError {
        operation,
        resource: resource.to_string(),
        code: None,
        message: format!("the response has no {field}"),
        kind: ErrorKind::Other,
    })
}

/// Runs a call on a resource that was just created, retrying while AWS still answers
/// "not found": EC2 and IAM are eventually consistent right after a create.
pub(crate) async fn after_create<T, F, Fut>(mut call: F) -> CloudResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CloudResult<T>>,
{
    let mut delay = Duration::from_millis(250);
    for _ in 0..5 {
        match call().await {
            Err(error) if error.is_not_found() => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    call().await
}

/// How many describes or reads run at once per listing (IAM and EKS rate-limit per account).
const READ_CONCURRENCY: usize = 8;

#[cfg(test)]
mod tests {
    use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::cloud::ControlPlane;

    /// An AWS handle whose EKS client answers from `rules`; the other clients are never called.
    fn cloud_with_eks(rules: &[&Rule]) -> AwsCloud {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        with_eks(
            eks_config()
                .http_client(aws_smithy_mocks::create_mock_http_client())
                .interceptor(interceptor),
        )
    }

    fn eks_config() -> aws_sdk_eks::config::Builder {
        aws_sdk_eks::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
            .retry_config(RetryConfig::disabled())
    }

    fn with_eks(config: aws_sdk_eks::config::Builder) -> AwsCloud {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        AwsCloud {
            eks: aws_sdk_eks::Client::from_conf(config.build()),
            ..AwsCloud::new(&shared)
        }
    }

    fn service_error(code: &'static str) -> Rule {
        mock!(aws_sdk_eks::Client::describe_cluster).then_error(move || {
            DescribeClusterError::generic(
                ErrorMetadata::builder()
                    .code(code)
                    .message("computer says no")
                    .build(),
            )
        })
    }

    #[tokio::test]
    async fn throttling_is_classified_with_operation_and_resource() {
        let rule = service_error("ThrottlingException");
        let error = cloud_with_eks(&[&rule])
            .describe_cluster("demo")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Throttled);
        assert_eq!(error.operation, "DescribeCluster");
        assert_eq!(error.resource, "cluster demo");
        assert_eq!(error.code.as_deref(), Some("ThrottlingException"));
        assert_eq!(
            error.to_string(),
            "DescribeCluster cluster demo: ThrottlingException: computer says no\n  hint: AWS kept throttling after retries; try again later"
        );
    }

    #[tokio::test]
    async fn access_denied_is_an_auth_error() {
        let rule = service_error("AccessDeniedException");
        let error = cloud_with_eks(&[&rule])
            .describe_cluster("demo")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Auth);
        assert_eq!(error.operation, "DescribeCluster");
        assert_eq!(error.resource, "cluster demo");
        assert!(error.hint().is_some_and(|h| h.contains("DescribeCluster")));
    }

    #[tokio::test]
    async fn a_server_error_page_is_transient() {
        let rule = mock!(aws_sdk_eks::Client::describe_cluster).then_http_response(|| {
            aws_sdk_eks::config::http::HttpResponse::new(
                500.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from("<html>Internal Server Error</html>"),
            )
        });
        let error = cloud_with_eks(&[&rule])
            .describe_cluster("demo")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transient, "{error}");
        assert_eq!(error.code, None);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_transient() {
        // Nothing listens on a port once its listener is dropped.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cloud = with_eks(eks_config().endpoint_url(format!("http://127.0.0.1:{port}")));
        let error = cloud.describe_cluster("demo").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transient, "{error}");
        assert_eq!(error.operation, "DescribeCluster");
        assert_eq!(error.resource, "cluster demo");
    }

    #[tokio::test]
    async fn a_missing_cluster_is_none() {
        let rule = service_error("ResourceNotFoundException");
        let cluster = cloud_with_eks(&[&rule])
            .describe_cluster("demo")
            .await
            .unwrap();
        assert_eq!(cluster, None);
    }

    #[tokio::test]
    async fn missing_credentials_say_how_to_provide_them() {
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::credential_fn::provide_credentials_fn(|| async {
                Err(CredentialsError::not_loaded_no_source())
            }),
        );
        let config = SdkConfig::builder().credentials_provider(provider).build();
        let error = resolve_credentials(&config, None).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Credentials);
        let text = error.to_string();
        assert!(
            text.starts_with("no AWS credentials found: none in the environment"),
            "{text}"
        );
        assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
        assert!(!text.contains("permission"), "{text}");

        let error = resolve_credentials(&SdkConfig::builder().build(), Some("prod"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Credentials);
        assert_eq!(error.resource, "profile `prod`");
        assert!(
            error
                .hint()
                .is_some_and(|h| h.contains("`aws sso login --profile prod`")),
            "{error}"
        );
    }
}
