//! The heaviest chain of a dependency graph: the critical path of a plan under the time model
//! (`estimate`) and of a run under its measured durations (`timeline`).

use std::ops::Add;

/// When each node ends if it starts as soon as the nodes it comes after end, and the
/// predecessor it waited for last. Node `i` takes `weights[i]` and comes after the nodes
/// `after[i]` (indices past the end are ignored). A cycle (not in a plan, but possible in a
/// hand-edited input) cannot loop: its first node not yet reached starts without the
/// predecessors that close it.
pub fn ends<W>(weights: &[W], after: &[Vec<usize>]) -> Vec<(W, Option<usize>)>
where
    W: Copy + PartialOrd + Add<Output = W>,
{
    let n = weights.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending: Vec<usize> = vec![0; n];
    for (i, preds) in after.iter().enumerate().take(n) {
        for &p in preds.iter().filter(|&&p| p < n) {
            dependents[p].push(i);
            pending[i] += 1;
        }
    }
    let mut best: Vec<Option<(W, Option<usize>)>> = vec![None; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut next_unreached = 0;
    while let Some(i) = ready.pop().or_else(|| {
        // Only cycles are left: start from the first node not yet reached.
        while next_unreached < n && best[next_unreached].is_some() {
            next_unreached += 1;
        }
        (next_unreached < n).then_some(next_unreached)
    }) {
        if best[i].is_some() {
            continue;
        }
        // The predecessor that ends last (the last of equals, in `after` order).
        let from = after
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|&p| best.get(p).copied().flatten().map(|(end, _)| (end, p)))
            .reduce(|a, b| if b.0 >= a.0 { b } else { a });
        best[i] = Some(match from {
            Some((end, p)) => (end + weights[i], Some(p)),
            None => (weights[i], None),
        });
        for &d in &dependents[i] {
            pending[d] = pending[d].saturating_sub(1);
            if pending[d] == 0 {
                ready.push(d);
            }
        }
    }
    best.into_iter()
        .zip(weights)
        .map(|(b, &w)| b.unwrap_or((w, None)))
        .collect()
}

/// The chain that ends at node `last`, first to last: each node's predecessor in `ends`, back
/// to one that waited for none (or, in a cycle, to one already on the chain).
pub fn ending_at<W>(last: usize, ends: &[(W, Option<usize>)]) -> Vec<usize> {
    let mut chain = vec![last];
    let mut at = last;
    while let Some((_, Some(p))) = ends.get(at) {
        if chain.contains(p) {
            break;
        }
        chain.push(*p);
        at = *p;
    }
    chain.reverse();
    chain
}
