//! The cap on AWS requests in flight: 500 IRSA roles run by the executor at once reach IAM at
//! most `InFlight::default().iam` at a time, and every role is still created, also when IAM
//! throttles.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use ekspec::cloud::Tags;
use ekspec::cloud::aws::{ConnectOptions, InFlight, connect};
use ekspec::exec::{self, Context, wait::Waiter};
use ekspec::plan::operation::Trust;
use ekspec::plan::{Change, ChangeKind, Operation, Plan};
use ekspec::resources::Observed;

/// Requests seen, by service (the SigV4 signing name).
#[derive(Debug, Default)]
struct Seen {
    now: BTreeMap<String, usize>,
    most: BTreeMap<String, usize>,
    actions: BTreeMap<String, usize>,
    throttled: usize,
}

/// IAM's rate: a token bucket of `burst` requests refilled at `per_second`, as AWS throttles.
#[derive(Debug)]
struct Rate {
    burst: f64,
    per_second: f64,
    tokens: f64,
    at: Instant,
}

impl Rate {
    fn new(burst: f64, per_second: f64) -> Self {
        Self {
            burst,
            per_second,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Whether a request may go through now.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.at = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        allowed
    }
}

/// IAM as an HTTP client: answers CreateRole and AttachRolePolicy after `latency`, counting
/// the requests in flight per service, and beyond `rate` answers IAM's throttling error.
#[derive(Debug, Clone)]
struct CountingIam {
    seen: Arc<Mutex<Seen>>,
    latency: Duration,
    rate: Option<Arc<Mutex<Rate>>>,
}

impl HttpClient for CountingIam {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for CountingIam {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            let service = request
                .headers()
                .get("authorization")
                .and_then(|a| a.split("Credential=").nth(1))
                .and_then(|c| c.split('/').nth(3))
                .unwrap_or("unknown")
                .to_owned();
            // Read as an HTTP client does, polling the body (the SDK's stall check watches it).
            let mut request = request;
            let body = std::mem::replace(request.body_mut(), SdkBody::taken());
            let bytes = ByteStream::new(body).collect().await.unwrap().into_bytes();
            let body = String::from_utf8_lossy(&bytes);
            let field = |name: &str| {
                body.split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                    .unwrap_or_default()
                    .to_owned()
            };
            let (action, role) = (field("Action"), field("RoleName"));
            {
                let mut seen = this.seen.lock().unwrap();
                let now = seen.now.entry(service.clone()).or_default();
                *now += 1;
                let now = *now;
                let most = seen.most.entry(service.clone()).or_default();
                *most = (*most).max(now);
                *seen.actions.entry(action.clone()).or_default() += 1;
            }
            tokio::time::sleep(this.latency).await;
            *this.seen.lock().unwrap().now.entry(service).or_default() -= 1;
            if let Some(rate) = &this.rate
                && !rate.lock().unwrap().take()
            {
                this.seen.lock().unwrap().throttled += 1;
                // IAM's answer beyond its rate (awsQuery error shape, HTTP 400).
                return Ok(HttpResponse::new(
                    400.try_into().unwrap(),
                    SdkBody::from(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                         <Message>Rate exceeded</Message></Error>\
                         <RequestId>1</RequestId></ErrorResponse>",
                    ),
                ));
            }
            let xml = match action.as_str() {
                "CreateRole" => format!(
                    "<CreateRoleResponse><CreateRoleResult><Role><Path>/</Path>\
                     <RoleName>{role}</RoleName><RoleId>AROA{role}</RoleId>\
                     <Arn>arn:aws:iam::123456789012:role/{role}</Arn>\
                     <CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></CreateRoleResult>\
                     <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
                     </CreateRoleResponse>"
                ),
                _ => format!(
                    "<{action}Response><ResponseMetadata><RequestId>1</RequestId>\
                     </ResponseMetadata></{action}Response>"
                ),
            };
            Ok(HttpResponse::new(
                200.try_into().unwrap(),
                SdkBody::from(xml),
            ))
        })
    }
}

/// A plan of `roles` IRSA-like roles with one managed policy each: no role waits for another,
/// so the executor starts them all at once.
fn roles(roles: usize) -> Plan {
    let changes = (0..roles)
        .map(|i| {
            let name = format!("pay-irsa-{i:04}");
            Change::new(
                format!("role/irsa/apps/sa-{i:04}"),
                ChangeKind::Create,
                vec![Operation::CreateRole {
                    name,
                    path: "/ekspec/pay/".to_owned(),
                    trust: Trust::Service(vec!["pods.eks.amazonaws.com".to_owned()]),
                    description: "test".to_owned(),
                    tags: Tags::new(),
                    policies: vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_owned()],
                    inline: None,
                }],
            )
        })
        .collect();
    Plan {
        cluster: "pay".to_owned(),
        region: "us-east-1".to_owned(),
        changes,
        warnings: Vec::new(),
    }
}

/// Runs `plan` against [`CountingIam`] answering after `latency` within `rate`, with
/// `in_flight`'s caps.
async fn run(
    plan: &Plan,
    latency: Duration,
    rate: Option<Rate>,
    in_flight: InFlight,
) -> (exec::Report, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let iam = CountingIam {
        seen: Arc::clone(&seen),
        latency,
        rate: rate.map(|rate| Arc::new(Mutex::new(rate))),
    };
    let cloud = connect(&ConnectOptions {
        region: "us-east-1".to_owned(),
        endpoint_url: Some("http://iam.test".to_owned()),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
        http_client: Some(SharedHttpClient::new(iam)),
        in_flight,
        ..ConnectOptions::default()
    })
    .await
    .unwrap();
    let ctx = Context::new(
        cloud,
        &Observed::default(),
        "pay",
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let report = exec::execute(plan, Arc::new(ctx), stopped, |_| {}).await;
    (report, seen)
}

#[tokio::test]
async fn five_hundred_roles_reach_iam_at_most_the_cap_at_a_time() {
    let (report, seen) = run(
        &roles(500),
        Duration::from_millis(5),
        None,
        InFlight::default(),
    )
    .await;
    assert!(report.success(), "{:?}", report.failed.first());
    assert_eq!(report.done.len(), 500);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.actions.get("CreateRole"), Some(&500));
    assert_eq!(seen.actions.get("AttachRolePolicy"), Some(&500));
    // The cap is reached (the calls do run side by side) and never passed.
    let cap = InFlight::default().iam;
    assert_eq!(seen.most.get("iam"), Some(&cap), "{:?}", seen.most);
    assert_eq!(seen.most.keys().collect::<Vec<_>>(), ["iam"]);
}

/// IAM throttling past its rate: the SDK's default retry quota ran out after about 100
/// throttled retries and the rest of the roles failed with "Throttling: Rate exceeded"; the
/// clients' retry partitions let throttled calls retry (paced by the adaptive rate limiter)
/// until all 500 roles are there, in one apply. IAM's rate here is scaled up from AWS's
/// (burst 20, +10/s) to +200/s so the test takes a minute or two, not many; at +1000/s a
/// loaded machine sent too slowly to be throttled as often as the test needs.
#[tokio::test]
async fn five_hundred_roles_converge_in_one_apply_while_iam_throttles() {
    let (report, seen) = run(
        &roles(500),
        Duration::from_millis(5),
        Some(Rate::new(20.0, 200.0)),
        InFlight::default(),
    )
    .await;
    let seen = seen.lock().unwrap();
    assert!(
        report.success(),
        "{} failed after {} throttled answers, first: {:?}",
        report.failed.len(),
        seen.throttled,
        report.failed.first()
    );
    assert_eq!(report.done.len(), 500);
    // IAM did throttle, more than the default quota (500 / 5) allows retries for.
    assert!(seen.throttled > 100, "{} throttled", seen.throttled);
    // Every role was created and attached once; the rest were throttled answers.
    let sent: usize = seen.actions.values().sum();
    assert_eq!(sent, 1000 + seen.throttled);
}
