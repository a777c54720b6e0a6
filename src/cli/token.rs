//! `ekspec token`: print an ExecCredential with an EKS bearer token, for kubectl's `exec`
//! credential plugin (what `ekspec kubeconfig` writes), like `aws eks get-token`.

use std::time::SystemTime;

use anyhow::{Context as _, Result};

use super::{ExitStatus, GlobalOptions, TokenArgs, session};
use crate::cloud::aws::{self, ConnectOptions};
use crate::cloud::eks_token::{self, ExecCredential};
use crate::printer::Printer;

/// Runs `token`: signs locally, calls AWS only to assume `--role-arn`.
pub fn run(args: &TokenArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let credential = session::runtime()?.block_on(async {
        let region = match &global.region {
            Some(region) => region.clone(),
            None => aws::default_region(global.profile.as_deref())
                .await
                .context("no region for the token: pass --region or set AWS_REGION")?,
        };
        let endpoint = eks_token::sts_endpoint(&region).await?;
        let options = ConnectOptions {
            region: region.clone(),
            profile: global.profile.clone(),
            // Only for AssumeRole: the token itself always names the real STS endpoint,
            // the only one the cluster's authenticator accepts.
            endpoint_url: global.endpoint_url.clone(),
            ..ConnectOptions::default()
        };
        let credentials = aws::signing_credentials(&options, args.role_arn.as_deref()).await?;
        let token = eks_token::presign(
            &credentials,
            &region,
            &endpoint,
            &args.cluster,
            SystemTime::now(),
        )?;
        let exec_info = std::env::var("KUBERNETES_EXEC_INFO").ok();
        anyhow::Ok(ExecCredential::new(
            &token,
            eks_token::exec_api_version(exec_info.as_deref()),
        ))
    })?;
    printer.json(&serde_json::to_value(credential)?);
    Ok(ExitStatus::Success)
}
