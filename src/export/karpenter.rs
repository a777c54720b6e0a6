//! Karpenter's AWS side, when ekspec made it: its version, namespace and service account (the
//! description ekspec gives the controller role names them) and the interruption queue.

use crate::resources::karpenter::CONTROLLER_ROLE;
use crate::resources::karpenter_interruption::QUEUE;
use crate::spec::{DEFAULT_KARPENTER_NAMESPACE, KarpenterSpec};

use super::Exporting;

/// Writes `spec.karpenter`.
pub fn export(x: &mut Exporting<'_>) {
    let live = x.live;
    let Some(role) = live
        .roles
        .iter()
        .find(|r| live.owned_id(&r.tags) == Some(CONTROLLER_ROLE))
    else {
        return;
    };
    // "Karpenter 1.8.1 controller karpenter/karpenter of prod (ekspec)"
    let described = role
        .description
        .as_deref()
        .and_then(|d| d.strip_prefix("Karpenter "))
        .and_then(|rest| rest.split_once(" controller "))
        .and_then(|(version, rest)| {
            let (account, _) = rest.split_once(" of ")?;
            let (namespace, service_account) = account.split_once('/')?;
            Some((version, namespace, service_account))
        });
    let Some((version, namespace, service_account)) = described else {
        x.omit(
            format!("role {}", role.name),
            "description",
            "Karpenter's controller role does not say its Karpenter version: add `spec.karpenter` by hand, or plan deletes Karpenter's AWS side",
        );
        return;
    };
    let custom = |value: &str| (value != DEFAULT_KARPENTER_NAMESPACE).then(|| value.to_owned());
    x.spec.karpenter = Some(KarpenterSpec {
        version: version.to_owned(),
        namespace: custom(namespace),
        service_account: custom(service_account),
        interruption_queue: live
            .queues
            .iter()
            .any(|q| live.owned_id(&q.tags) == Some(QUEUE)),
    });
}
