//! EKS bearer tokens, made exactly as `aws eks get-token` and aws-iam-authenticator make them:
//! `k8s-aws-v1.` + base64url (no padding) of an STS `GetCallerIdentity` URL presigned with SigV4,
//! with the cluster name signed in as the `x-k8s-aws-id` header. The cluster's authenticator
//! calls that URL to learn who the caller is; nothing is sent to AWS to make a token.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

/// What every EKS token starts with.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The signed header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// The ExecCredential API version kubeconfig entries ask for (and the default answer).
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// STS ignores `X-Amz-Expires` for this call: a presigned `GetCallerIdentity` URL is valid for
/// 15 minutes after `X-Amz-Date`. The AWS CLI and aws-iam-authenticator send 60, and
/// authenticators up to 0.3.0 reject anything above 60, so ekspec sends 60 too.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);

/// How long a token is announced as valid: 14 minutes, one less than STS accepts it, so that
/// kubectl and client-go fetch a new one before the old one is refused (the AWS CLI's choice).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// What SigV4 leaves unescaped in query strings (RFC 3986 unreserved characters).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A token for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksToken {
    /// `k8s-aws-v1.…`, the bearer token.
    pub token: String,
    /// When clients should stop using it.
    pub expires_at: SystemTime,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The region has no STS endpoint (a typo, or a partition the SDK does not know).
    #[error("no STS endpoint for region `{region}`: {message}")]
    Endpoint {
        /// The region asked for.
        region: String,
        /// What the endpoint rules said.
        message: String,
    },
    /// The cluster name cannot be sent as an HTTP header value.
    #[error("`{0}` is not a valid cluster name for a token")]
    ClusterName(String),
    /// SigV4 refused the request or the credentials.
    #[error("cannot sign the STS request: {0}")]
    Signing(String),
}

/// The regional STS endpoint of `region` (`https://sts.eu-west-1.amazonaws.com`, and the right
/// domain in the China and GovCloud partitions), as the STS SDK resolves it. Regional, never the
/// global endpoint, as the AWS CLI v2 and aws-iam-authenticator do.
pub async fn sts_endpoint(region: &str) -> Result<String, TokenError> {
    let endpoint_error = |message: String| TokenError::Endpoint {
        region: region.to_owned(),
        message,
    };
    let params = Params::builder()
        .region(region)
        .use_global_endpoint(false)
        .use_fips(false)
        .use_dual_stack(false)
        .build()
        .map_err(|e| endpoint_error(e.to_string()))?;
    let endpoint = DefaultResolver::new()
        .resolve_endpoint(&params)
        .await
        .map_err(|e| endpoint_error(e.to_string()))?;
    Ok(endpoint.url().trim_end_matches('/').to_owned())
}

/// Presigns `GetCallerIdentity` on `endpoint` (see [`sts_endpoint`]) for `cluster` with
/// `credentials` at time `at`. The query parameters come in the AWS CLI's order, so for the same
/// inputs the token is byte for byte the one `aws eks get-token` prints.
pub fn presign(
    credentials: &Credentials,
    region: &str,
    endpoint: &str,
    cluster: &str,
    at: SystemTime,
) -> Result<EksToken, TokenError> {
    if cluster.is_empty() || cluster.chars().any(|c| c.is_control()) {
        return Err(TokenError::ClusterName(cluster.to_owned()));
    }
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into();
    let operation = format!("{endpoint}/?Action=GetCallerIdentity&Version=2011-06-15");
    let request = SignableRequest::new(
        "GET",
        operation.as_str(),
        [(CLUSTER_ID_HEADER, cluster)].into_iter(),
        // STS is not S3: the payload hash is that of the empty body, not UNSIGNED-PAYLOAD.
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::Signing(e.to_string()))?;
    let (instructions, signature) = sign(request, &params)
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into_parts();
    let (_, query) = instructions.into_parts();
    // aws-sigv4 lists X-Amz-Signature before X-Amz-Security-Token; the CLI puts it last.
    let mut url = operation;
    for (name, value) in query.iter().filter(|(name, _)| *name != "X-Amz-Signature") {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    url.push_str("&X-Amz-Signature=");
    url.push_str(&signature);
    Ok(EksToken {
        token: format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(url)),
        expires_at: at + TOKEN_LIFETIME,
    })
}

/// The ExecCredential kubectl reads from a credential plugin's stdout.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecCredential {
    kind: &'static str,
    api_version: String,
    spec: serde_json::Map<String, serde_json::Value>,
    status: ExecCredentialStatus,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    expiration_timestamp: String,
    token: String,
}

impl ExecCredential {
    /// The credential for `token`, in the API version the client asked for.
    pub fn new(token: &EksToken, api_version: &str) -> Self {
        Self {
            kind: "ExecCredential",
            api_version: api_version.to_owned(),
            spec: serde_json::Map::new(),
            status: ExecCredentialStatus {
                expiration_timestamp: humantime::format_rfc3339_seconds(token.expires_at)
                    .to_string(),
                token: token.token.clone(),
            },
        }
    }
}

/// The ExecCredential API version to answer in: what `KUBERNETES_EXEC_INFO` (set by kubectl
/// and client-go) asks for when it is `v1` or `v1beta1`, else `v1beta1`, like the AWS CLI.
pub fn exec_api_version(exec_info: Option<&str>) -> &'static str {
    const V1: &str = "client.authentication.k8s.io/v1";
    let asked = exec_info
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|info| info.get("apiVersion")?.as_str().map(str::to_owned));
    match asked.as_deref() {
        Some(V1) => V1,
        _ => EXEC_API_VERSION,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// 2026-01-02T03:04:05Z, the time tests/fixtures/token/aws-cli-get-token.py froze.
    fn signed_at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045)
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// What the AWS CLI printed (a file under tests/fixtures/token).
    fn cli_output(name: &str) -> serde_json::Value {
        let path = format!("{}/tests/fixtures/token/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn decode(token: &str) -> String {
        let encoded = token.strip_prefix(TOKEN_PREFIX).unwrap();
        String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
    }

    /// Host, path and the query parameters in order, decoded.
    fn parts(url: &str) -> (String, Vec<(String, String)>) {
        let (base, query) = url.split_once('?').unwrap();
        let params = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let v = percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .unwrap();
                (k.to_owned(), v.into_owned())
            })
            .collect();
        (base.to_owned(), params)
    }

    async fn ours(credentials: &Credentials, region: &str, cluster: &str) -> serde_json::Value {
        let endpoint = sts_endpoint(region).await.unwrap();
        let token = presign(credentials, region, &endpoint, cluster, signed_at()).unwrap();
        serde_json::to_value(ExecCredential::new(&token, EXEC_API_VERSION)).unwrap()
    }

    #[tokio::test]
    async fn long_term_keys_give_the_aws_cli_token() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test");
        let ours = ours(&credentials, "eu-west-1", "demo").await;
        let cli = cli_output("eu-west-1.json");

        let (our_url, their_url) = (
            decode(ours["status"]["token"].as_str().unwrap()),
            decode(cli["status"]["token"].as_str().unwrap()),
        );
        let (our_base, our_params) = parts(&our_url);
        let (their_base, their_params) = parts(&their_url);
        assert_eq!(our_base, "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(our_base, their_base);
        let names: Vec<&str> = our_params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-SignedHeaders",
                "X-Amz-Signature"
            ]
        );
        let ours_by_name: BTreeMap<_, _> = our_params.iter().cloned().collect();
        assert_eq!(
            ours_by_name["X-Amz-Credential"],
            "AKIDEXAMPLE/20260102/eu-west-1/sts/aws4_request"
        );
        assert_eq!(ours_by_name["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        assert_eq!(ours_by_name["X-Amz-Expires"], "60");
        assert_eq!(ours_by_name["X-Amz-Date"], "20260102T030405Z");
        // Every part, the signature included, is what the CLI computed.
        assert_eq!(our_params, their_params);
        assert_eq!(ours, cli);
    }

    #[tokio::test]
    async fn session_credentials_sign_the_security_token_like_the_aws_cli() {
        let session = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJH+session/token==";
        let credentials = Credentials::new(
            "ASIDEXAMPLE",
            SECRET,
            Some(session.to_owned()),
            None,
            "test",
        );
        let ours = ours(&credentials, "us-east-1", "prod-cluster").await;
        let cli = cli_output("us-east-1-session.json");
        let url = decode(ours["status"]["token"].as_str().unwrap());
        assert!(
            url.starts_with("https://sts.us-east-1.amazonaws.com/?"),
            "us-east-1 uses the regional endpoint too: {url}"
        );
        let (_, params) = parts(&url);
        assert!(params.contains(&("X-Amz-Security-Token".to_owned(), session.to_owned())));
        assert_eq!(ours, cli);
    }

    #[test]
    fn the_signature_depends_on_the_cluster_and_the_time() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test");
        let endpoint = "https://sts.eu-west-1.amazonaws.com";
        let sign = |cluster: &str, at| {
            presign(&credentials, "eu-west-1", endpoint, cluster, at)
                .unwrap()
                .token
        };
        let base = sign("demo", signed_at());
        assert_ne!(base, sign("other", signed_at()));
        assert_ne!(base, sign("demo", signed_at() + Duration::from_secs(1)));
        assert_eq!(base, sign("demo", signed_at()));
    }

    #[test]
    fn expiry_is_fourteen_minutes_after_signing() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test");
        let token = presign(
            &credentials,
            "eu-west-1",
            "https://sts.eu-west-1.amazonaws.com",
            "demo",
            signed_at(),
        )
        .unwrap();
        let credential =
            serde_json::to_value(ExecCredential::new(&token, EXEC_API_VERSION)).unwrap();
        assert_eq!(
            credential["status"]["expirationTimestamp"],
            "2026-01-02T03:18:05Z"
        );
    }

    #[test]
    fn a_cluster_name_that_is_no_header_value_is_refused() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test");
        for bad in ["", "demo\nHost: evil"] {
            let error = presign(
                &credentials,
                "eu-west-1",
                "https://sts.eu-west-1.amazonaws.com",
                bad,
                signed_at(),
            )
            .unwrap_err();
            assert!(matches!(error, TokenError::ClusterName(_)), "{error}");
        }
    }

    #[tokio::test]
    async fn endpoints_follow_the_partition() {
        assert_eq!(
            sts_endpoint("cn-north-1").await.unwrap(),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            sts_endpoint("us-gov-west-1").await.unwrap(),
            "https://sts.us-gov-west-1.amazonaws.com"
        );
        let error = sts_endpoint("not a region").await.unwrap_err();
        assert!(error.to_string().contains("`not a region`"), "{error}");
    }

    #[test]
    fn the_api_version_follows_kubernetes_exec_info() {
        let v1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
        assert_eq!(
            exec_api_version(Some(v1)),
            "client.authentication.k8s.io/v1"
        );
        let beta = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1"}"#;
        assert_eq!(exec_api_version(Some(beta)), EXEC_API_VERSION);
        assert_eq!(exec_api_version(Some("not json")), EXEC_API_VERSION);
        assert_eq!(exec_api_version(None), EXEC_API_VERSION);
    }
}
