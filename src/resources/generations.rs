//! Resources EKS cannot change in place are replaced under a new name (spec name plus a hash
//! of the settings), so one spec entry may have several live generations: the spec's, and
//! others left by earlier specs or an interrupted replacement. This sorts them by what to do
//! with each, the same way for every such kind (node groups; Fargate profiles can follow).

/// A live generation: its EKS name and status.
pub trait Generational {
    /// The EKS name.
    fn generation_name(&self) -> &str;
    /// The EKS status (`CREATING`, `ACTIVE`, `CREATE_FAILED`, `DELETING`, ...).
    fn generation_status(&self) -> &str;
}

/// The spec's generation, as EKS reports it.
#[derive(Debug)]
pub enum Generation<'g, T> {
    /// Not there: it is created.
    Missing,
    /// There and ACTIVE, on its way (CREATING, UPDATING), or DEGRADED (an update may heal
    /// it): it is kept and changed in place.
    Usable(&'g T),
    /// There but CREATE_FAILED (EKS keeps it so until it is deleted) or DELETING (its name is
    /// taken until it is gone): it is deleted and made again.
    Unusable(&'g T),
}

/// What to do with the live generations of one spec entry.
#[derive(Debug)]
pub struct Generations<'g, T> {
    /// The spec's generation.
    pub current: Generation<'g, T>,
    /// The others: deleted once the spec's generation is ACTIVE, never before, so the last
    /// ACTIVE generation is not lost to a failed or reverted replacement.
    pub old: Vec<&'g T>,
}

/// Sorts the live generations of one spec entry by what they are to the spec's, `name`.
pub fn sort<'g, T: Generational>(name: &str, live: &'g [T]) -> Generations<'g, T> {
    let current = match live.iter().find(|g| g.generation_name() == name) {
        None => Generation::Missing,
        Some(g) if matches!(g.generation_status(), "CREATE_FAILED" | "DELETING") => {
            Generation::Unusable(g)
        }
        Some(g) => Generation::Usable(g),
    };
    Generations {
        current,
        old: live
            .iter()
            .filter(|g| g.generation_name() != name)
            .collect(),
    }
}
