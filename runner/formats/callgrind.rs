//! Valgrind's callgrind output format (`callgrind.out.PID`): the event
//! names and the run's totals. Pure and bounded: the file is written by a
//! tool running code under test, so it is read as hostile text.
//!
//! Reference: valgrind's docs/callgrind-format ("Callgrind Format
//! Specification"): a header of `key: value` lines (`events:`,
//! `summary:`), cost lines, and a `totals:` line at the end.

/// Event names and their totals for the whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// `Ir` (instructions executed), then with cache simulation `Dr`, `Dw`,
    /// `I1mr`, `D1mr`, `D1mw`, `ILmr`, `DLmr`, `DLmw`.
    pub events: Vec<String>,
    pub values: Vec<u64>,
}

impl Totals {
    /// The total of one event, 0 if the run did not count it.
    pub fn get(&self, event: &str) -> u64 {
        self.events.iter().position(|e| e == event).and_then(|i| self.values.get(i)).copied().unwrap_or(0)
    }

    /// Adds another process's totals (a command's children), by event name.
    pub fn add(&mut self, other: &Totals) {
        for (e, v) in other.events.iter().zip(&other.values) {
            match self.events.iter().position(|x| x == e) {
                Some(i) => self.values[i] = self.values[i].saturating_add(*v),
                None => {
                    self.events.push(e.clone());
                    self.values.push(*v);
                }
            }
        }
    }

    /// Cycles estimated from the cache simulation, as iai-callgrind does
    /// (after Itamar Turner-Trauring's model): every access that hits L1
    /// costs 1, one that misses L1 but hits the last level costs 5, one that
    /// misses the last level (RAM) costs 35. `None` without cache events.
    pub fn estimated_cycles(&self) -> Option<u64> {
        if !self.events.iter().any(|e| e == "D1mr") {
            return None;
        }
        let g = |e| self.get(e);
        let accesses = g("Ir").saturating_add(g("Dr")).saturating_add(g("Dw"));
        let l1_misses = g("I1mr").saturating_add(g("D1mr")).saturating_add(g("D1mw"));
        let ll_misses = g("ILmr").saturating_add(g("DLmr")).saturating_add(g("DLmw"));
        let l1_hits = accesses.saturating_sub(l1_misses);
        let ll_hits = l1_misses.saturating_sub(ll_misses);
        Some(l1_hits.saturating_add(ll_hits.saturating_mul(5)).saturating_add(ll_misses.saturating_mul(35)))
    }

    /// L1 misses (instruction and data), or `None` without cache events.
    pub fn l1_misses(&self) -> Option<u64> {
        self.events
            .iter()
            .any(|e| e == "D1mr")
            .then(|| self.get("I1mr").saturating_add(self.get("D1mr")).saturating_add(self.get("D1mw")))
    }

    /// Last-level misses (instruction and data), or `None` without cache events.
    pub fn ll_misses(&self) -> Option<u64> {
        self.events
            .iter()
            .any(|e| e == "D1mr")
            .then(|| self.get("ILmr").saturating_add(self.get("DLmr")).saturating_add(self.get("DLmw")))
    }
}

/// Most event names a file may declare (callgrind has about a dozen).
const MAX_EVENTS: usize = 64;

/// The totals of a callgrind output file: its `totals:` line, else its
/// `summary:` line, matched to its `events:` line.
pub fn totals(text: &str) -> Result<Totals, String> {
    let mut events: Option<(usize, Vec<String>)> = None;
    let mut summary: Option<(usize, &str)> = None;
    let mut totals: Option<(usize, &str)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("events:") {
            let names: Vec<String> = rest.split_whitespace().take(MAX_EVENTS + 1).map(str::to_string).collect();
            if names.is_empty() || names.len() > MAX_EVENTS {
                return Err(format!("line {n}: `events:` must name 1 to {MAX_EVENTS} events"));
            }
            events = Some((n, names));
        } else if let Some(rest) = line.strip_prefix("summary:") {
            summary = Some((n, rest));
        } else if let Some(rest) = line.strip_prefix("totals:") {
            totals = Some((n, rest));
        }
    }
    let Some((_, events)) = events else {
        return Err("no `events:` line: not a callgrind output file".into());
    };
    let Some((n, line)) = totals.or(summary) else {
        return Err("no `totals:` or `summary:` line: the run did not finish writing its output".into());
    };
    let mut values = Vec::with_capacity(events.len());
    for (i, word) in line.split_whitespace().enumerate() {
        if i >= events.len() {
            return Err(format!("line {n}: more totals than the {} events", events.len()));
        }
        values.push(word.parse::<u64>().map_err(|_| format!("line {n}: {word:?} is not a count"))?);
    }
    if values.is_empty() {
        return Err(format!("line {n}: no totals"));
    }
    // Missing trailing values are zero (the format allows it).
    values.resize(events.len(), 0);
    Ok(Totals { events, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_totals_and_the_cache_model() {
        let text = "# callgrind format\nversion: 1\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 1 2 3 4 5 6 7 8 9\n\nfl=(1) a.c\nfn=(1) main\n3 1000 500 200 4 30 10 1 20 5\n\ntotals: 1000 500 200 4 30 10 1 20 5\n";
        let t = totals(text).unwrap();
        assert_eq!(t.get("Ir"), 1000);
        assert_eq!(t.l1_misses(), Some(44));
        assert_eq!(t.ll_misses(), Some(26));
        // accesses 1700, L1 hits 1656, LL hits 18, RAM 26.
        assert_eq!(t.estimated_cycles(), Some(1656 + 5 * 18 + 35 * 26));
        // Without cache simulation: the summary, no cache figures.
        let t = totals("events: Ir\nsummary: 42\n").unwrap();
        assert_eq!((t.get("Ir"), t.estimated_cycles(), t.l1_misses()), (42, None, None));
        let mut sum = t.clone();
        sum.add(&totals("events: Ir\ntotals: 8\n").unwrap());
        assert_eq!(sum.get("Ir"), 50);
    }

    #[test]
    fn hostile_files_are_errors_with_a_line() {
        assert!(totals("").unwrap_err().contains("no `events:`"));
        assert!(totals("events: Ir\n").unwrap_err().contains("did not finish"));
        assert!(totals("events: Ir\ntotals: x\n").unwrap_err().contains("line 2"));
        assert!(totals("events: Ir\ntotals: 1 2\n").unwrap_err().contains("more totals"));
        assert!(totals("events: Ir\ntotals: 99999999999999999999999\n").is_err());
        let many = format!("events: {}\n", "E ".repeat(1000));
        assert!(totals(&many).unwrap_err().contains("1 to 64"));
    }
}
