//! A cap on the requests each AWS service has in flight at once.
//!
//! AWS throttles each account per service with token buckets: a burst of requests at once,
//! then a refill rate. The executor starts every ready change at once, so 500 IRSA roles were
//! 500 IAM calls at once: all but a bucket's worth are throttled, and the SDK's retry quota
//! (500 tokens a service, 5 per throttled retry) runs dry after a hundred retries, so the
//! rest fail with "Rate exceeded". The cap sits in the HTTP client each service's SDK client
//! sends through: every request takes a place, whether a read, a write, a wait's poll or the
//! SDK's own retry, and the SDK's backoff before a retry holds none. The cap bounds bursts,
//! not the rate: past the burst the SDK's adaptive retry mode (`retry_config`) paces the
//! calls, with a retry quota that throttling does not spend (`retry_partition`), so 500 roles
//! converge in one run (BENCHMARKS.md, "Throttling at scale").

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// How many requests each service may have in flight at once: the burst AWS documents for the
/// calls ekspec makes, or our estimate where AWS publishes none, and never more than 50 so
/// that retries cannot drain the SDK's retry quota (500 tokens, 5 per throttled retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// EC2: mutating actions have a bucket of 50 (refill 5/s), describes 100 (20/s), each
    /// action its own ("Request throttling for the Amazon EC2 API").
    pub ec2: usize,
    /// Elastic Load Balancing, each API version apart: describes have a bucket of 40
    /// (refill 10/s) ("Request throttling for the ELB API").
    pub elb: usize,
    /// IAM: AWS publishes no rate, only that IAM throttles with token buckets per API;
    /// our estimate is a burst of 20 (refill 10/s), twice Terraform's default parallelism.
    pub iam: usize,
    /// STS: no published rate; ekspec makes a call or two per command.
    pub sts: usize,
    /// EKS: no published rate; the same estimate as IAM's.
    pub eks: usize,
    /// SSM Parameter Store: 40 transactions a second for its reads at the default
    /// throughput ("AWS Systems Manager endpoints and quotas").
    pub ssm: usize,
    /// SQS: AWS documents no rate for its queue-management calls (only that sending and
    /// receiving are nearly unlimited); ekspec makes a handful per cluster, so the estimate
    /// is IAM's.
    pub sqs: usize,
    /// EventBridge: every API but PutEvents shares a default of 50 requests a second
    /// ("Amazon EventBridge quotas"); a burst of 20 stays well under it.
    pub events: usize,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            ec2: 50,
            elb: 40,
            iam: 20,
            sts: 20,
            eks: 20,
            ssm: 40,
            sqs: 20,
            events: 20,
        }
    }
}

impl InFlight {
    /// No cap at all (the benchmark's baseline).
    pub fn unlimited() -> Self {
        let all = Semaphore::MAX_PERMITS;
        Self {
            ec2: all,
            elb: all,
            iam: all,
            sts: all,
            eks: all,
            ssm: all,
            sqs: all,
            events: all,
        }
    }
}

/// An HTTP client that lets at most a fixed number of requests through at once.
#[derive(Debug, Clone)]
pub(crate) struct Capped {
    inner: SharedHttpClient,
    places: Arc<Semaphore>,
}

impl Capped {
    /// `inner`, with at most `cap` requests in flight (at least one).
    pub(crate) fn new(inner: SharedHttpClient, cap: usize) -> Self {
        let cap = cap.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            inner,
            places: Arc::new(Semaphore::new(cap)),
        }
    }
}

impl HttpClient for Capped {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CappedConnector {
            inner: self.inner.http_connector(settings, components),
            places: Arc::clone(&self.places),
        })
    }
}

#[derive(Debug)]
struct CappedConnector {
    inner: SharedHttpConnector,
    places: Arc<Semaphore>,
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let places = Arc::clone(&self.places);
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _place = places
                .acquire_owned()
                .await
                .map_err(|closed| ConnectorError::other(closed.into(), None))?;
            inner.call(request).await
        })
    }
}

/// The HTTPS client the SDK makes when given none (hyper 1 with rustls and aws-lc, proxy
/// settings from the environment), built here so that it can be capped.
pub(crate) fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}
