//! The fuzz target's body (`fuzz/fuzz_targets/parse_validate.rs`: any text through
//! `parse_str`) on the stable toolchain, for a fixed budget in every CI run: mutations of the
//! examples (byte flips, YAML punctuation, anchors and aliases, tags, splices, repeated and
//! deleted lines). No input may panic or take long. cargo-fuzz (nightly, coverage-guided) goes
//! deeper: see fuzz/README.md. `EKSPEC_FUZZ_SEED=<n>` replays a run; `EKSPEC_FUZZ_INPUTS=<n>`
//! changes the budget (default 3000 inputs).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use ekspec::spec::parse_str;

use crate::support::yaml_files;

/// Tokens that change YAML's structure.
const TOKENS: &[&str] = &[
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!!map ",
    "? ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "#",
    "\n",
    "\n  ",
    "\t",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "<<: *a\n",
    "~",
    "null",
    "\u{feff}",
    "\\u0000",
    "1e999",
    "-0",
    "0x1F",
    ".nan",
    "9999999999999999999999",
];

/// A small deterministic generator (xorshift64*), so a seed replays a run exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0)
}

fn mutate(rng: &mut Rng, seeds: &[String], text: &mut String) {
    let at = boundary(text, rng.below(text.len() + 1));
    match rng.below(7) {
        0 => text.insert_str(at, TOKENS[rng.below(TOKENS.len())]),
        1 => {
            let end = boundary(text, at + rng.below(40));
            text.replace_range(at..end, "");
        }
        2 => {
            // Replace one byte with another ASCII character.
            let end = boundary(text, at + 1);
            let byte = (rng.below(95) as u8 + 32) as char;
            text.replace_range(at..end.max(at), &byte.to_string());
        }
        3 => {
            let lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let line = lines[rng.below(lines.len())].to_owned();
                let times = 1 + rng.below(4);
                text.insert_str(at, &format!("{line}\n").repeat(times));
            }
        }
        4 => {
            // Splice in part of another example.
            let other = &seeds[rng.below(seeds.len())];
            let start = boundary(other, rng.below(other.len()));
            let end = boundary(other, start + rng.below(200));
            text.insert_str(at, &other[start..end]);
        }
        5 => text.insert_str(at, &"[".repeat(1 + rng.below(300))),
        _ => {
            // Re-indent a line.
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            text.insert_str(line_start, &" ".repeat(1 + rng.below(5)));
        }
    }
}

#[test]
fn mutated_specs_never_panic_or_hang() {
    let seeds: Vec<String> = yaml_files("examples")
        .into_iter()
        .chain(yaml_files("clusters"))
        .chain(yaml_files("tests/fixtures/valid"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let seed = std::env::var("EKSPEC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let inputs = std::env::var("EKSPEC_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(seed);
    let mut slowest = Duration::ZERO;
    let mut invalid = 0;
    for i in 0..inputs {
        let mut text = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(6) {
            mutate(&mut rng, &seeds, &mut text);
        }
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| parse_str("fuzz.yaml", &text)));
        let took = started.elapsed();
        slowest = slowest.max(took);
        match outcome {
            Ok(report) => invalid += usize::from(report.spec.is_none()),
            Err(_) => panic!(
                "input {i} panicked; replay with EKSPEC_FUZZ_SEED={seed}\n--- input ---\n{text}"
            ),
        }
        // Generous for a debug build on a busy machine; a hang or blow-up takes far longer.
        assert!(
            took < Duration::from_secs(5),
            "input {i} took {took:?}; replay with EKSPEC_FUZZ_SEED={seed}\n--- input ---\n{text}"
        );
    }
    println!(
        "fuzzed {inputs} mutated specs (seed {seed}): {invalid} refused with diagnostics, slowest {slowest:?}"
    );
    assert!(invalid > 0, "the mutations never produced an invalid spec");
}
