//! A simulated AWS in the SDK's HTTP layer, in front of moto.
//!
//! moto answers at once and makes every EKS resource ACTIVE and every NAT gateway available
//! the moment it is created. This HTTP client, given to the SDK through
//! `ConnectOptions::http_client`, sits between ekspec's real AWS code and moto and:
//! - adds a latency to every call;
//! - keeps each asynchronous resource in its transitional state (CREATING, UPDATING,
//!   DELETING; `pending` / `deleting` for NAT gateways) for the time model's duration after
//!   the mutating call, by rewriting the status in describe responses (and answering for a
//!   deleted resource, which moto removes at once, until its deletion would be done);
//! - answers the version upgrade calls moto lacks (UpdateClusterVersion,
//!   UpdateNodegroupVersion, DescribeUpdate) with an update that stays InProgress as long;
//! - counts calls (reads and mutations, by operation) and their round-trip time;
//! - optionally throttles each service with a token bucket, as AWS does.
//!
//! So the executor's real waits, polls and backoff run unchanged against it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Headers, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::time::Instant;

use ekspec::plan::estimate::TimeModel;

/// Calls seen by the simulator.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Read calls (Describe*, List*, Get*, REST GETs).
    pub reads: usize,
    /// Mutating calls.
    pub writes: usize,
    /// Calls by operation.
    pub by_operation: BTreeMap<String, usize>,
    /// Summed round-trip time by operation.
    pub busy_by_operation: BTreeMap<String, Duration>,
    /// Summed round-trip time of every call (latency included).
    pub busy: Duration,
    /// Throttling errors answered instead of forwarding.
    pub throttled: usize,
}

impl Stats {
    /// Every call.
    pub fn calls(&self) -> usize {
        self.reads + self.writes
    }

    /// The mean round trip of a call.
    pub fn mean_call(&self) -> Duration {
        mean(self.busy, self.calls())
    }

    /// The mean round trip of a call of `operation` (any call's when there was none).
    pub fn mean_of(&self, operation: &str) -> Duration {
        match (
            self.busy_by_operation.get(operation),
            self.by_operation.get(operation),
        ) {
            (Some(busy), Some(count)) => mean(*busy, *count),
            _ => self.mean_call(),
        }
    }
}

fn mean(total: Duration, count: usize) -> Duration {
    u32::try_from(count)
        .ok()
        .filter(|n| *n > 0)
        .map_or(Duration::ZERO, |n| total / n)
}

/// A request rate AWS allows a service: a token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Burst size.
    pub capacity: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    limit: Limit,
    tokens: f64,
    last: Instant,
}

/// A resource held in a transitional state until `until`.
#[derive(Debug, Clone)]
struct Window {
    until: Instant,
    status: &'static str,
    /// For deletions: the resource as moto last described it, answered while moto no longer
    /// knows it.
    body: Option<Value>,
}

#[derive(Debug, Default)]
struct State {
    model: Option<TimeModel>,
    latency: Duration,
    windows: HashMap<String, Window>,
    /// Update id -> (resource key, InProgress until, the update document).
    updates: HashMap<String, (Instant, Value)>,
    stats: Stats,
    limits: HashMap<String, Limit>,
    buckets: HashMap<String, Bucket>,
}

/// The simulator; clones share state.
#[derive(Debug, Clone)]
pub struct Simulator {
    inner: SharedHttpClient,
    state: Arc<Mutex<State>>,
    ids: Arc<AtomicU64>,
}

impl Simulator {
    /// A simulator forwarding through the SDK's own kind of HTTP client, with moto's own
    /// timing, no latency and no throttling until told otherwise.
    pub fn new() -> Self {
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        Self {
            inner,
            state: Arc::new(Mutex::new(State::default())),
            ids: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The HTTP client to give the SDK.
    pub fn client(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// Hold resources in transitional states per `model` (`None`: moto's instant changes).
    pub fn set_model(&self, model: Option<TimeModel>) {
        let mut state = self.lock();
        state.model = model;
        state.windows.clear();
    }

    /// Add `latency` to every call.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Throttle each service (`ec2`, `iam`, `eks`, ...) to its limit; empty: no throttling.
    pub fn set_limits(&self, limits: HashMap<String, Limit>) {
        let mut state = self.lock();
        state.limits = limits;
        state.buckets.clear();
    }

    /// The calls so far; `reset` starts counting afresh.
    pub fn stats(&self, reset: bool) -> Stats {
        let mut state = self.lock();
        if reset {
            std::mem::take(&mut state.stats)
        } else {
            state.stats.clone()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn handle(
        self,
        request: HttpRequest,
        inner: SharedHttpConnector,
    ) -> Result<HttpResponse, ConnectorError> {
        let started = Instant::now();
        let call = Call::parse(&request);
        let latency = self.lock().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let throttled = self.take_token(&call.service);
        let response = if throttled {
            throttling_error(&call.service)
        } else if let Some(answer) = self.answer_missing(&call) {
            answer
        } else {
            let response = inner.call(request).await?;
            self.observe(&call, response).await?
        };
        let mut state = self.lock();
        let stats = &mut state.stats;
        if call.is_read() {
            stats.reads += 1;
        } else {
            stats.writes += 1;
        }
        let operation = call.operation();
        let elapsed = started.elapsed();
        *stats.by_operation.entry(operation.clone()).or_default() += 1;
        *stats.busy_by_operation.entry(operation).or_default() += elapsed;
        stats.busy += elapsed;
        stats.throttled += usize::from(throttled);
        Ok(response)
    }

    /// Whether the service's bucket is empty (then the call is throttled).
    fn take_token(&self, service: &str) -> bool {
        let mut state = self.lock();
        let Some(limit) = state.limits.get(service).copied() else {
            return false;
        };
        let now = Instant::now();
        let bucket = state
            .buckets
            .entry(service.to_owned())
            .or_insert_with(|| Bucket {
                limit,
                tokens: limit.capacity,
                last: now,
            });
        let refill = now.duration_since(bucket.last).as_secs_f64() * bucket.limit.per_second;
        bucket.tokens = (bucket.tokens + refill).min(bucket.limit.capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            false
        } else {
            true
        }
    }

    /// The EKS version upgrade calls moto does not implement, answered here.
    fn answer_missing(&self, call: &Call) -> Option<HttpResponse> {
        if call.service != "eks" {
            return None;
        }
        let segments: Vec<&str> = call.segments();
        let mut state = self.lock();
        let now = Instant::now();
        let (key, minutes, version) = match (call.method.as_str(), segments.as_slice()) {
            // UpdateClusterVersion.
            ("POST", ["clusters", name, "updates"]) => (
                format!("cluster/{name}"),
                state.model.map(|m| (m, m.cluster_version)),
                call.json_field("version"),
            ),
            // UpdateNodegroupVersion.
            ("POST", ["clusters", name, "node-groups", group, "update-version"]) => (
                format!("nodegroup/{name}/{group}"),
                state.model.map(|m| (m, m.node_group_version)),
                call.json_field("version"),
            ),
            // DescribeUpdate.
            ("GET", ["clusters", _, "updates", id]) => {
                let (until, update) = state.updates.get(*id)?.clone();
                let status = if now < until {
                    "InProgress"
                } else {
                    "Successful"
                };
                let mut update = update;
                update["status"] = json!(status);
                return Some(json_response(200, &json!({ "update": update })));
            }
            _ => return None,
        };
        let id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.ids.fetch_add(1, Ordering::Relaxed)
        );
        let until = match minutes {
            Some((model, minutes)) => {
                let until = now + model.real(minutes);
                state.windows.insert(
                    key,
                    Window {
                        until,
                        status: "UPDATING",
                        body: None,
                    },
                );
                until
            }
            None => now,
        };
        let update = json!({
            "id": id,
            "status": "InProgress",
            "type": "VersionUpdate",
            "params": [{"type": "Version", "value": version.unwrap_or_default()}],
            "createdAt": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            "errors": [],
        });
        state.updates.insert(id, (until, update.clone()));
        Some(json_response(200, &json!({ "update": update })))
    }

    /// Starts transitional windows after mutating calls and applies them to describes.
    async fn observe(
        &self,
        call: &Call,
        response: HttpResponse,
    ) -> Result<HttpResponse, ConnectorError> {
        let Some(model) = self.lock().model else {
            return Ok(response);
        };
        match call.service.as_str() {
            "eks" => self.observe_eks(call, response, &model).await,
            "ec2" => self.observe_nat(call, response, &model).await,
            _ => Ok(response),
        }
    }

    async fn observe_eks(
        &self,
        call: &Call,
        response: HttpResponse,
        model: &TimeModel,
    ) -> Result<HttpResponse, ConnectorError> {
        let segments = call.segments();
        let ok = response.status().is_success();
        // (resource key, field of the response document, what to do)
        enum Do {
            Start(&'static str, f64),
            Delete(f64),
            Describe,
        }
        let (key, field, action) = match (call.method.as_str(), segments.as_slice()) {
            ("POST", ["clusters"]) => (
                format!("cluster/{}", call.json_field("name").unwrap_or_default()),
                "cluster",
                Do::Start("CREATING", model.cluster_create),
            ),
            ("POST", ["clusters", name, "update-config"]) => (
                format!("cluster/{name}"),
                "cluster",
                Do::Start("UPDATING", model.cluster_config),
            ),
            ("DELETE", ["clusters", name]) => (
                format!("cluster/{name}"),
                "cluster",
                Do::Delete(model.cluster_delete),
            ),
            ("GET", ["clusters", name]) => (format!("cluster/{name}"), "cluster", Do::Describe),
            ("POST", ["clusters", name, "node-groups"]) => (
                format!(
                    "nodegroup/{name}/{}",
                    call.json_field("nodegroupName").unwrap_or_default()
                ),
                "nodegroup",
                Do::Start("CREATING", model.node_group_create),
            ),
            ("POST", ["clusters", name, "node-groups", group, "update-config"]) => (
                format!("nodegroup/{name}/{group}"),
                "nodegroup",
                Do::Start("UPDATING", model.node_group_config),
            ),
            ("DELETE", ["clusters", name, "node-groups", group]) => (
                format!("nodegroup/{name}/{group}"),
                "nodegroup",
                Do::Delete(model.node_group_delete),
            ),
            ("GET", ["clusters", name, "node-groups", group]) => (
                format!("nodegroup/{name}/{group}"),
                "nodegroup",
                Do::Describe,
            ),
            ("POST", ["clusters", name, "fargate-profiles"]) => (
                format!(
                    "fargate/{name}/{}",
                    call.json_field("fargateProfileName").unwrap_or_default()
                ),
                "fargateProfile",
                Do::Start("CREATING", model.fargate_create),
            ),
            ("DELETE", ["clusters", name, "fargate-profiles", profile]) => (
                format!("fargate/{name}/{profile}"),
                "fargateProfile",
                Do::Delete(model.fargate_delete),
            ),
            ("GET", ["clusters", name, "fargate-profiles", profile]) => (
                format!("fargate/{name}/{profile}"),
                "fargateProfile",
                Do::Describe,
            ),
            _ => return Ok(response),
        };
        let now = Instant::now();
        match action {
            Do::Start(status, minutes) if ok => {
                self.lock().windows.insert(
                    key,
                    Window {
                        until: now + model.real(minutes),
                        status,
                        body: None,
                    },
                );
                Ok(response)
            }
            Do::Delete(minutes) if ok => {
                let (status, headers, bytes) = read(response).await?;
                let body = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get(field).cloned());
                self.lock().windows.insert(
                    key,
                    Window {
                        until: now + model.real(minutes),
                        status: "DELETING",
                        body,
                    },
                );
                Ok(rebuild(status, headers, bytes))
            }
            Do::Describe => {
                let window = self.lock().windows.get(&key).cloned();
                let Some(window) = window.filter(|w| now < w.until) else {
                    return Ok(response);
                };
                let (status, headers, bytes) = read(response).await?;
                if status.as_u16() == 200 {
                    let Ok(mut document) = serde_json::from_slice::<Value>(&bytes) else {
                        return Ok(rebuild(status, headers, bytes));
                    };
                    if let Some(resource) = document.get_mut(field) {
                        resource["status"] = json!(window.status);
                    }
                    return Ok(json_response(200, &document));
                }
                match window.body {
                    // Gone in moto, still DELETING in the model.
                    Some(mut resource) if status.as_u16() == 404 => {
                        resource["status"] = json!(window.status);
                        Ok(json_response(200, &json!({ field: resource })))
                    }
                    _ => Ok(rebuild(status, headers, bytes)),
                }
            }
            _ => Ok(response),
        }
    }

    async fn observe_nat(
        &self,
        call: &Call,
        response: HttpResponse,
        model: &TimeModel,
    ) -> Result<HttpResponse, ConnectorError> {
        let now = Instant::now();
        match call.action.as_deref() {
            Some("CreateNatGateway") if response.status().is_success() => {
                let (status, headers, bytes) = read(response).await?;
                let text = String::from_utf8_lossy(&bytes);
                if let Some(id) = between(&text, "<natGatewayId>", "</natGatewayId>") {
                    self.lock().windows.insert(
                        format!("nat/{id}"),
                        Window {
                            until: now + model.real(model.nat_create),
                            status: "pending",
                            body: None,
                        },
                    );
                }
                Ok(rebuild(status, headers, bytes))
            }
            Some("DeleteNatGateway") if response.status().is_success() => {
                if let Some(id) = call.params.get("NatGatewayId") {
                    self.lock().windows.insert(
                        format!("nat/{id}"),
                        Window {
                            until: now + model.real(model.nat_delete),
                            status: "deleting",
                            body: None,
                        },
                    );
                }
                Ok(response)
            }
            // The executor's waits describe one gateway by a nat-gateway-id filter.
            Some("DescribeNatGateways") => {
                let Some(id) = call.filter_value("nat-gateway-id") else {
                    return Ok(response);
                };
                let window = self.lock().windows.get(&format!("nat/{id}")).cloned();
                let Some(window) = window.filter(|w| now < w.until) else {
                    return Ok(response);
                };
                let (status, headers, bytes) = read(response).await?;
                let text = String::from_utf8_lossy(&bytes);
                let rewritten = match between(&text, "<state>", "</state>") {
                    Some(state) => text.replacen(
                        &format!("<state>{state}</state>"),
                        &format!("<state>{}</state>", window.status),
                        1,
                    ),
                    None => text.into_owned(),
                };
                Ok(rebuild(status, headers, rewritten.into_bytes()))
            }
            _ => Ok(response),
        }
    }
}

impl HttpClient for Simulator {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            simulator: self.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct Connector {
    simulator: Simulator,
    inner: SharedHttpConnector,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::new(self.simulator.clone().handle(request, self.inner.clone()))
    }
}

/// What a request asks.
#[derive(Debug)]
struct Call {
    /// The signing name: `ec2`, `iam`, `eks`, `sts`, `elasticloadbalancing`.
    service: String,
    method: String,
    path: String,
    /// Query protocol (EC2, IAM, STS, ELB): the action and form parameters.
    action: Option<String>,
    params: HashMap<String, String>,
    /// REST JSON (EKS): the request document.
    json: Option<Value>,
}

impl Call {
    fn parse(request: &HttpRequest) -> Self {
        let authorization = request.headers().get("authorization").unwrap_or_default();
        // `Credential=AKID/DATE/REGION/SERVICE/aws4_request`
        let service = authorization
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').nth(3))
            .unwrap_or("unknown")
            .to_owned();
        let uri = request.uri();
        let after_host = uri.split("://").nth(1).unwrap_or(uri);
        let path_and_query = after_host
            .find('/')
            .map_or("/", |i| &after_host[i..])
            .to_owned();
        let path = path_and_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let params: HashMap<String, String> = if body.contains("Action=") {
            body.split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (decode(k), decode(v)))
                .collect()
        } else {
            HashMap::new()
        };
        Self {
            service,
            method: request.method().to_owned(),
            path,
            action: params.get("Action").cloned(),
            json: serde_json::from_str(&body).ok(),
            params,
        }
    }

    fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    fn json_field(&self, name: &str) -> Option<String> {
        self.json.as_ref()?.get(name)?.as_str().map(str::to_owned)
    }

    /// The first value of the filter named `name` (`Filter.N.Name` / `Filter.N.Value.1`).
    fn filter_value(&self, name: &str) -> Option<&String> {
        let (key, _) = self
            .params
            .iter()
            .find(|(k, v)| k.starts_with("Filter.") && k.ends_with(".Name") && *v == name)?;
        let prefix = key.strip_suffix(".Name")?;
        self.params.get(&format!("{prefix}.Value.1"))
    }

    fn is_read(&self) -> bool {
        match &self.action {
            Some(action) => ["Describe", "List", "Get"]
                .iter()
                .any(|verb| action.starts_with(verb)),
            None => matches!(self.method.as_str(), "GET" | "HEAD"),
        }
    }

    /// The API operation's name (REST calls: method and path pattern).
    fn operation(&self) -> String {
        if let Some(action) = &self.action {
            return action.clone();
        }
        let names = [
            "clusters",
            "node-groups",
            "fargate-profiles",
            "addons",
            "updates",
            "access-entries",
            "access-policies",
            "pod-identity-associations",
            "update-config",
            "update-version",
        ];
        let mut pattern = String::new();
        let mut after_tags = false;
        for segment in self.segments() {
            if after_tags {
                continue;
            }
            pattern.push('/');
            if names.contains(&segment) || segment == "tags" {
                pattern.push_str(segment);
                after_tags = segment == "tags";
            } else {
                pattern.push('*');
            }
        }
        let known = match (self.method.as_str(), pattern.as_str()) {
            ("GET", "/clusters/*") => "DescribeCluster",
            ("POST", "/clusters") => "CreateCluster",
            ("DELETE", "/clusters/*") => "DeleteCluster",
            ("POST", "/clusters/*/update-config") => "UpdateClusterConfig",
            ("POST", "/clusters/*/updates") => "UpdateClusterVersion",
            ("GET", "/clusters/*/updates/*") => "DescribeUpdate",
            ("GET", "/clusters/*/node-groups") => "ListNodegroups",
            ("POST", "/clusters/*/node-groups") => "CreateNodegroup",
            ("GET", "/clusters/*/node-groups/*") => "DescribeNodegroup",
            ("DELETE", "/clusters/*/node-groups/*") => "DeleteNodegroup",
            ("POST", "/clusters/*/node-groups/*/update-config") => "UpdateNodegroupConfig",
            ("POST", "/clusters/*/node-groups/*/update-version") => "UpdateNodegroupVersion",
            ("GET", "/clusters/*/fargate-profiles") => "ListFargateProfiles",
            ("POST", "/clusters/*/fargate-profiles") => "CreateFargateProfile",
            ("GET", "/clusters/*/fargate-profiles/*") => "DescribeFargateProfile",
            ("DELETE", "/clusters/*/fargate-profiles/*") => "DeleteFargateProfile",
            ("GET", "/clusters/*/addons") => "ListAddons",
            ("GET", "/clusters/*/access-entries") => "ListAccessEntries",
            ("GET", "/clusters/*/pod-identity-associations") => "ListPodIdentityAssociations",
            ("POST", "/clusters/*/pod-identity-associations") => "CreatePodIdentityAssociation",
            ("GET", "/clusters/*/pod-identity-associations/*") => "DescribePodIdentityAssociation",
            ("POST", "/clusters/*/pod-identity-associations/*") => "UpdatePodIdentityAssociation",
            ("DELETE", "/clusters/*/pod-identity-associations/*") => "DeletePodIdentityAssociation",
            ("POST", "/tags") => "TagResource",
            _ => "",
        };
        if known.is_empty() {
            format!("{} {pattern}", self.method)
        } else {
            known.to_owned()
        }
    }
}

fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

type Parts = (StatusCode, Headers, Vec<u8>);

/// Reads a whole response (moto's are small).
async fn read(response: HttpResponse) -> Result<Parts, ConnectorError> {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| ConnectorError::io(e.into()))?
        .into_bytes()
        .to_vec();
    Ok((status, headers, bytes))
}

fn rebuild(status: StatusCode, mut headers: Headers, body: Vec<u8>) -> HttpResponse {
    headers.insert("content-length", body.len().to_string());
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    *response.headers_mut() = headers;
    response
}

fn json_response(status: u16, document: &Value) -> HttpResponse {
    let mut headers = Headers::new();
    headers.insert("content-type", "application/json");
    rebuild(code(status), headers, document.to_string().into_bytes())
}

/// A status code this file names (always valid).
fn code(status: u16) -> StatusCode {
    StatusCode::try_from(status).expect("a valid HTTP status code")
}

/// The throttling error each protocol answers with.
fn throttling_error(service: &str) -> HttpResponse {
    match service {
        "eks" => {
            let mut response = json_response(429, &json!({"message": "Rate exceeded"}));
            response
                .headers_mut()
                .insert("x-amzn-errortype", "ThrottlingException");
            response
        }
        "ec2" => {
            let mut headers = Headers::new();
            headers.insert("content-type", "text/xml");
            rebuild(
                code(503),
                headers,
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>sim</RequestID></Response>".to_vec(),
            )
        }
        _ => {
            let mut headers = Headers::new();
            headers.insert("content-type", "text/xml");
            rebuild(
                code(400),
                headers,
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>sim</RequestId></ErrorResponse>".to_vec(),
            )
        }
    }
}
