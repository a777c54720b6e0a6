//! `ekspec plan`: what apply would change, for one spec or a fleet.

use anyhow::{Context as _, Result, bail};

use super::fleet::{self, Outcome};
use super::session::{self, LoadedSpec};
use super::{ExitStatus, GlobalOptions, PlanArgs};
use crate::plan::markdown::{self, Section};
use crate::plan::saved::SavedPlan;
use crate::plan::{Plan, graph, render};
use crate::policy::{Gate, Verdict};
use crate::printer::{OutputFormat, Printer};
use crate::resources::adopt::AdoptMode;
use crate::resources::{observe_adopting, planner};

/// `--adopt-network` takes over the VPC a spec brings in: a spec without one is refused.
pub fn check_adopt_network(spec: &LoadedSpec, adopt: AdoptMode) -> Result<()> {
    if adopt.network() && spec.file.spec.vpc.id.is_none() {
        bail!(
            "--adopt-network takes over the VPC a spec brings in (spec.vpc.id with its subnets), and {} has none: ekspec makes that cluster's network itself; drop --adopt-network, or set spec.vpc.id and spec.vpc.subnets to the VPC to adopt (`ekspec export` writes them)",
            spec.path.display()
        );
    }
    Ok(())
}

/// Reads live AWS for a spec and plans it (with the adoptions the spec matches, `adopt`).
pub async fn plan_spec(
    global: &GlobalOptions,
    spec: &LoadedSpec,
    adopt: AdoptMode,
) -> Result<Plan> {
    check_adopt_network(spec, adopt)?;
    let file = &spec.file;
    let cloud = session::cloud(global, &file.metadata.region).await?;
    let observed = observe_adopting(&cloud, &file.metadata.name, Some(file), adopt).await?;
    Ok(planner::plan(file, &observed))
}

fn status(plan: &Plan, detailed: bool) -> ExitStatus {
    if plan.impossible().next().is_some() {
        ExitStatus::Failure
    } else if detailed && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

fn show(printer: &Printer, plan: &Plan) {
    printer.diagnostic(render::warnings(plan));
    match printer.format() {
        OutputFormat::Json => printer.json(&render::json(plan)),
        // Markdown and graphs are drawn once for all specs, in `run`.
        OutputFormat::Text | OutputFormat::Markdown => {
            printer.result(render::text(plan).trim_end());
        }
    }
}

/// Whether the plans are drawn as one picture or document instead of shown one by one.
fn drawn(args: &PlanArgs, printer: &Printer) -> bool {
    args.graph.is_some() || printer.format() == OutputFormat::Markdown
}

/// The picture (`--graph`) or comment (`--output markdown`) of every spec's plan.
fn draw(args: &PlanArgs, printer: &Printer, sections: Vec<Section>) {
    if let Some(format) = args.graph {
        let plans: Vec<&Plan> = sections
            .iter()
            .filter_map(|s| s.plan.as_ref().ok())
            .collect();
        printer.result(graph::render(&plans, format).trim_end());
    } else {
        printer.result(markdown::render(&sections, args.markdown_limit).trim_end());
    }
}

fn section(spec: &LoadedSpec, plan: Result<Plan, String>, verdict: Option<&Verdict>) -> Section {
    Section {
        spec: spec.path.display().to_string(),
        cluster: spec.file.metadata.name.clone(),
        region: spec.file.metadata.region.clone(),
        plan,
        findings: verdict.map(|v| v.findings.clone()).unwrap_or_default(),
    }
}

/// Judges `plan` with the policy gate (no gate: no findings).
fn judge(gate: Option<&Gate>, plan: &Plan, spec: &LoadedSpec) -> Result<Verdict> {
    let Some(gate) = gate else {
        return Ok(Verdict::default());
    };
    gate.judge(plan, Some((&spec.file, &spec.path)))
        .with_context(|| format!("the policies could not judge {}", spec.path.display()))
}

/// Prints what the policies said (stderr).
fn report(printer: &Printer, verdict: &Verdict) {
    for finding in &verdict.findings {
        printer.diagnostic(format!("{finding}\n"));
    }
}

/// Runs `plan`.
pub fn run(args: &PlanArgs, global: &GlobalOptions, printer: &Printer) -> Result<ExitStatus> {
    let gate = args.policy.gate()?;
    let gate = gate.as_ref();
    if args.graph.is_some() && printer.format() != OutputFormat::Text {
        bail!(
            "--graph prints a picture on stdout; it does not combine with --output json or markdown (the markdown has the Mermaid graph)"
        );
    }
    let specs = session::load_specs(&args.specs.all(), global, printer)?;
    if args.out.is_some() && specs.len() != 1 {
        bail!(
            "--out saves the plan of one spec; {} specs were given",
            specs.len()
        );
    }
    let runtime = session::runtime()?;
    if let [spec] = specs.as_slice() {
        let plan = runtime.block_on(plan_spec(global, spec, args.adopt_mode()))?;
        let verdict = judge(gate, &plan, spec);
        if drawn(args, printer) {
            let judged = verdict.as_ref().ok();
            draw(args, printer, vec![section(spec, Ok(plan.clone()), judged)]);
        } else {
            show(printer, &plan);
        }
        let verdict = verdict?;
        report(printer, &verdict);
        if verdict.denied() {
            bail!("the policies deny this plan (see above); fix the spec or the policies");
        }
        if let Some(out) = &args.out {
            let saved = SavedPlan::new(&plan, &spec.path.to_string_lossy(), &spec.source)
                .adopting(args.adopt_mode());
            let text = serde_json::to_string_pretty(&saved)?;
            std::fs::write(out, text + "\n")
                .with_context(|| format!("cannot write the plan to {}", out.display()))?;
            printer.info(format!(
                "Saved to {0}; `ekspec apply {0}` applies exactly this plan.",
                out.display()
            ));
        }
        return Ok(status(&plan, args.detailed_exitcode));
    }
    let results = runtime.block_on(fleet::each(specs, |spec| async move {
        let plan = plan_spec(global, &spec, args.adopt_mode()).await;
        (spec, plan)
    }));
    let mut outcomes = Vec::new();
    let mut sections = Vec::new();
    for (spec, plan) in results {
        let metadata = &spec.file.metadata;
        let outcome = match plan {
            Ok(plan) => {
                let verdict = judge(gate, &plan, &spec);
                if drawn(args, printer) {
                    let judged = verdict.as_ref().ok();
                    sections.push(section(&spec, Ok(plan.clone()), judged));
                } else {
                    if printer.format() == OutputFormat::Text {
                        printer.result(format!("# {}", spec.path.display()));
                    }
                    show(printer, &plan);
                }
                if let Ok(verdict) = &verdict {
                    report(printer, verdict);
                }
                let status = status(&plan, args.detailed_exitcode);
                let denied = verdict.map(|v| v.denied());
                Outcome {
                    cluster: metadata.name.clone(),
                    region: metadata.region.clone(),
                    changes: render::summary_line(&plan),
                    result: match (&denied, status) {
                        (Err(error), _) => format!("error: {error:#}"),
                        (Ok(true), _) => "denied by policy".to_owned(),
                        (Ok(false), ExitStatus::Failure) => "impossible changes".to_owned(),
                        _ if plan.is_empty() => "ok".to_owned(),
                        _ => "changes".to_owned(),
                    },
                    status: match denied {
                        Ok(false) => status,
                        _ => ExitStatus::Failure,
                    },
                }
            }
            Err(error) => {
                printer.diagnostic(format!("error: {}: {error:#}\n", spec.path.display()));
                sections.push(section(&spec, Err(format!("{error:#}")), None));
                Outcome {
                    cluster: metadata.name.clone(),
                    region: metadata.region.clone(),
                    changes: "-".to_owned(),
                    result: format!("error: {error}"),
                    status: ExitStatus::Failure,
                }
            }
        };
        outcomes.push(outcome);
    }
    if drawn(args, printer) {
        draw(args, printer, sections);
    } else {
        fleet::summary(printer, &outcomes);
    }
    Ok(fleet::combine(&outcomes))
}
