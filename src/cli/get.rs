//! `ekspec get`: the live resources a cluster owns, with their status.

use anyhow::Result;
use serde_json::json;

use super::{ExitStatus, GetArgs, GlobalOptions, fleet, session};
use crate::lock::{self, ClusterLock, LockError, LockInfo};
use crate::printer::{OutputFormat, Printer};
use crate::resources::{Observed, observe, owned_id};

/// One live resource.
struct Row {
    resource: String,
    id: String,
    status: String,
}

/// The lock's row, when a run holds it (or left it).
fn lock_row(cluster: &str, lock: Result<Option<LockInfo>, LockError>) -> Result<Option<Row>> {
    let status = match lock {
        Ok(None) => return Ok(None),
        Ok(Some(info)) => {
            let state = if info.expired(std::time::SystemTime::now()) {
                "expired"
            } else {
                "held"
            };
            format!(
                "{state}: {} by {} since {}, expires {}",
                info.command,
                info.who(),
                info.started,
                info.expires
            )
        }
        Err(LockError::Unreadable { reason, .. }) => {
            format!("unreadable value ({reason}); `apply --break-lock` removes it")
        }
        Err(error) => return Err(error.into()),
    };
    Ok(Some(Row {
        resource: "lock".to_owned(),
        id: lock::parameter_name(cluster),
        status,
    }))
}

fn rows(observed: &Observed, cluster: &str, lock: Option<Row>) -> Vec<Row> {
    let mut rows: Vec<Row> = lock.into_iter().collect();
    let mut add = |tags: &crate::cloud::Tags, id: &str, status: &str| {
        if let Some(resource) = owned_id(tags, cluster) {
            rows.push(Row {
                resource: resource.to_owned(),
                id: id.to_owned(),
                status: status.to_owned(),
            });
        }
    };
    let net = &observed.network;
    // The IPv6 block follows the IPv4 one in a dual-stack network.
    let with_ipv6 = |cidr: &str, ipv6: &Option<String>| match ipv6 {
        Some(block) => format!("{cidr} {block}"),
        None => cidr.to_owned(),
    };
    net.vpcs
        .iter()
        .for_each(|v| add(&v.tags, &v.id, &with_ipv6(&v.cidr, &v.ipv6_cidr)));
    net.subnets.iter().for_each(|s| {
        add(
            &s.tags,
            &s.id,
            &format!(
                "{} {}",
                with_ipv6(&s.cidr, &s.ipv6_cidr),
                s.availability_zone
            ),
        )
    });
    net.egress_only_internet_gateways.iter().for_each(|g| {
        add(
            &g.tags,
            &g.id,
            if g.vpc_id.is_some() {
                "attached"
            } else {
                "detached"
            },
        )
    });
    net.internet_gateways.iter().for_each(|g| {
        add(
            &g.tags,
            &g.id,
            if g.attached_vpc_ids.is_empty() {
                "detached"
            } else {
                "attached"
            },
        )
    });
    net.addresses.iter().for_each(|a| {
        add(
            &a.tags,
            &a.allocation_id,
            a.public_ip.as_deref().unwrap_or("-"),
        )
    });
    net.nat_gateways
        .iter()
        .for_each(|n| add(&n.tags, &n.id, &n.state));
    net.route_tables
        .iter()
        .for_each(|t| add(&t.tags, &t.id, &format!("{} subnets", t.associations.len())));
    net.launch_templates
        .iter()
        .for_each(|t| add(&t.tags, &t.name, &format!("version {}", t.latest_version)));
    observed.roles.iter().for_each(|r| {
        add(
            &r.tags,
            &r.name,
            &format!(
                "{} policies",
                r.attached_policies.len() + r.inline_policies.len()
            ),
        )
    });
    observed
        .oidc_providers
        .iter()
        .for_each(|o| add(&o.tags, &o.arn, "ready"));
    if let Some(c) = observed.owned_cluster(cluster) {
        let family = match c.ip_family.as_deref() {
            Some("ipv6") => " ipv6",
            _ => "",
        };
        add(
            &c.tags,
            &c.name,
            &format!("{} {}{family}", c.status, c.version),
        );
    }
    observed.node_groups.iter().for_each(|g| {
        add(
            &g.tags,
            &g.name,
            &format!(
                "{} {}/{}/{} {}",
                g.status, g.scaling.min, g.scaling.desired, g.scaling.max, g.capacity_type
            ),
        );
    });
    observed
        .fargate_profiles
        .iter()
        .for_each(|f| add(&f.tags, &f.name, &f.status));
    observed
        .addons
        .iter()
        .for_each(|a| add(&a.tags, &a.name, &format!("{} {}", a.status, a.version)));
    observed
        .pod_identity_associations
        .iter()
        .filter(|a| a.owner_arn.is_none())
        .for_each(|a| {
            add(
                &a.tags,
                &a.association_id,
                &format!("{}/{} -> {}", a.namespace, a.service_account, a.role_arn),
            );
        });
    observed.access_entries.iter().for_each(|e| {
        add(
            &e.tags,
            &e.principal_arn,
            &format!("{} policies", e.policies.len()),
        );
    });
    observed.queues.iter().for_each(|q| {
        add(
            &q.tags,
            &q.name,
            &format!(
                "retention {}s",
                q.message_retention_seconds.unwrap_or_default()
            ),
        );
    });
    observed.event_rules.iter().for_each(|r| {
        add(
            &r.tags,
            &r.name,
            &format!("{} {} targets", r.state, r.targets.len()),
        );
    });
    rows.sort_by(|a, b| a.resource.cmp(&b.resource));
    rows
}

/// Runs `get`: a table per cluster (JSON: one document per cluster, in a list for several).
pub fn run(args: &GetArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let specs = session::load_specs(&args.specs.all(), global, printer)?;
    let single = specs.len() == 1;
    let observed = session::runtime()?.block_on(fleet::each(specs, |spec| async move {
        let file = &spec.file;
        let observed = async {
            let cloud = session::cloud(global, &file.metadata.region).await?;
            let name = &file.metadata.name;
            let lock = ClusterLock::new(cloud.parameters.as_ref(), name);
            let (observed, lock) = tokio::join!(observe(&cloud, name, Some(file)), lock.describe());
            anyhow::Ok((observed?, lock_row(name, lock)?))
        }
        .await;
        (spec, observed)
    }));
    let mut documents = Vec::new();
    for (spec, observed) in observed {
        let file = &spec.file;
        let (observed, lock) = observed?;
        let rows = rows(&observed, &file.metadata.name, lock);
        if printer.format() == OutputFormat::Json {
            documents.push(json!({
                "cluster": file.metadata.name,
                "region": file.metadata.region,
                "resources": rows.iter().map(|r| json!({"resource": r.resource, "id": r.id, "status": r.status})).collect::<Vec<_>>(),
            }));
            continue;
        }
        if !single {
            printer.result(format!(
                "# {} ({})",
                file.metadata.name, file.metadata.region
            ));
        }
        table(printer, &rows, &file.metadata.name, &file.metadata.region);
    }
    match documents.as_slice() {
        [] => {}
        [one] => printer.json(one),
        many => printer.json(&json!(many)),
    }
    Ok(ExitStatus::Success)
}

fn table(printer: &Printer, rows: &[Row], cluster: &str, region: &str) {
    if rows.is_empty() {
        printer.result(format!("No resources of cluster `{cluster}` in {region}."));
        return;
    }
    let width = |f: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).len())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (w1, w2) = (width(|r| &r.resource, "RESOURCE"), width(|r| &r.id, "ID"));
    printer.result(format!("{:<w1$}  {:<w2$}  STATUS", "RESOURCE", "ID"));
    for row in rows {
        printer.result(format!(
            "{:<w1$}  {:<w2$}  {}",
            row.resource, row.id, row.status
        ));
    }
}
