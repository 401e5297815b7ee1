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

/// Self cost of one source line of one function (no costs of calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCost {
    pub function: String,
    /// The line's file: the function's own, or an inlined callee's (`fi=`).
    pub file: String,
    pub line: i64,
    /// The line is inlined code from another file than the function's.
    pub inlined: bool,
    pub values: Vec<u64>,
}

/// Every function's self cost per source line, from a callgrind output
/// file: what an instruction profile is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfCosts {
    pub events: Vec<String>,
    pub lines: Vec<LineCost>,
}

/// Most distinct (function, file, line) entries a file may yield, and the
/// longest name kept (longer ones are cut).
const MAX_LINES: usize = 2_000_000;
const MAX_NAME: usize = 4096;

/// Names defined once as `(id) name` and referred to later as `(id)`.
#[derive(Default)]
struct Names(std::collections::HashMap<u64, String>);

impl Names {
    fn resolve(&mut self, value: &str, n: usize) -> Result<String, String> {
        let value = value.trim();
        let Some(rest) = value.strip_prefix('(') else { return Ok(cut(value)) };
        let (id, name) = rest.split_once(')').ok_or_else(|| format!("line {n}: unclosed `(` in a name"))?;
        let id: u64 = id.trim().parse().map_err(|_| format!("line {n}: {id:?} is not a name id"))?;
        let name = name.trim();
        if name.is_empty() {
            return self
                .0
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("line {n}: name id {id} is used before it is defined"));
        }
        if self.0.len() >= MAX_LINES {
            return Err(format!("line {n}: more than {MAX_LINES} names"));
        }
        let name = cut(name);
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

fn cut(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    let mut end = MAX_NAME;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A position field: absolute, `+n`/`-n` relative to the last, or `*` (same).
fn position(word: &str, last: i64, n: usize) -> Result<i64, String> {
    let bad = || format!("line {n}: {word:?} is not a position");
    let value = if word == "*" {
        last
    } else if let Some(d) = word.strip_prefix('+') {
        last.checked_add(parse_number(d).ok_or_else(bad)?).ok_or_else(bad)?
    } else if let Some(d) = word.strip_prefix('-') {
        last.checked_sub(parse_number(d).ok_or_else(bad)?).ok_or_else(bad)?
    } else {
        parse_number(word).ok_or_else(bad)?
    };
    Ok(value)
}

fn parse_number(word: &str) -> Option<i64> {
    match word.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

/// Reads the self costs of a callgrind output file: cost lines under each
/// `fn=`, by the file (`fl=`, or `fi=`/`fe=` for inlined code) and line.
/// The cost line after `calls=` is the call's inclusive cost and is not
/// counted (the callee's own lines hold it).
pub fn self_costs(text: &str) -> Result<SelfCosts, String> {
    let mut events: Vec<String> = Vec::new();
    let mut positions = 1usize;
    let (mut files, mut functions) = (Names::default(), Names::default());
    let (mut fl, mut file, mut function) = (String::new(), String::new(), String::new());
    let mut last = [0i64; 2];
    let mut skip_next = false;
    let mut index: std::collections::HashMap<(String, String, i64), usize> = std::collections::HashMap::new();
    let mut lines: Vec<LineCost> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let Some(first) = line.bytes().next() else { continue };
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'*') {
            let mut words = line.split_whitespace();
            let mut at = 0i64;
            for slot in last.iter_mut().take(positions) {
                let word = words.next().ok_or_else(|| format!("line {n}: a cost line without its position"))?;
                *slot = position(word, *slot, n)?;
                at = *slot;
            }
            if events.is_empty() {
                return Err(format!("line {n}: no `events:` line before this cost line: not a callgrind output file"));
            }
            if std::mem::take(&mut skip_next) || function.is_empty() {
                continue;
            }
            let mut values = vec![0u64; events.len()];
            for (i, word) in words.enumerate() {
                let v = values
                    .get_mut(i)
                    .ok_or_else(|| format!("line {n}: more costs than the {} events", events.len()))?;
                *v = word.parse().map_err(|_| format!("line {n}: {word:?} is not a count"))?;
            }
            let key = (function.clone(), file.clone(), at);
            let slot = match index.get(&key) {
                Some(&i) => i,
                None => {
                    if lines.len() >= MAX_LINES {
                        return Err(format!("line {n}: more than {MAX_LINES} distinct source lines"));
                    }
                    index.insert(key, lines.len());
                    lines.push(LineCost {
                        function: function.clone(),
                        file: file.clone(),
                        line: at,
                        inlined: file != fl,
                        values: vec![0; events.len()],
                    });
                    lines.len() - 1
                }
            };
            for (sum, v) in lines[slot].values.iter_mut().zip(values) {
                *sum = sum.saturating_add(v);
            }
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else { continue };
        match key {
            "events" if line.as_bytes()[key.len()] == b':' => {
                events = value.split_whitespace().take(MAX_EVENTS + 1).map(str::to_string).collect();
                if events.is_empty() || events.len() > MAX_EVENTS {
                    return Err(format!("line {n}: `events:` must name 1 to {MAX_EVENTS} events"));
                }
            }
            "positions" => {
                positions = value.split_whitespace().count().clamp(1, 2);
            }
            "fl" => {
                fl = files.resolve(value, n)?;
                file = fl.clone();
            }
            "fi" | "fe" => file = files.resolve(value, n)?,
            "fn" => {
                function = functions.resolve(value, n)?;
                file = fl.clone();
            }
            "cfi" | "cfl" => {
                files.resolve(value, n)?;
            }
            "cfn" => {
                functions.resolve(value, n)?;
            }
            "calls" | "jump" | "jcnd" => skip_next = true,
            _ => {}
        }
    }
    if events.is_empty() {
        return Err("no `events:` line: not a callgrind output file".into());
    }
    Ok(SelfCosts { events, lines })
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
    fn self_costs_by_function_and_line_without_call_costs() {
        let text = "events: Ir\npositions: line\nfl=(1) /src/a.go\nfn=(1) main.work\n10 100\n+2 50\ncfi=(2) /src/b.go\ncfn=(2) main.helper\ncalls=3 5\n* 999\n* 7\nfi=(2)\n5 20\nfn=(2)\nfl=(2)\nfn=(2)\n5 30\n";
        let c = self_costs(text).unwrap();
        let get = |f: &str, file: &str, l: i64| {
            c.lines.iter().find(|x| x.function == f && x.file == file && x.line == l).map(|x| x.values[0])
        };
        assert_eq!(get("main.work", "/src/a.go", 10), Some(100));
        // The call's inclusive 999 is not self cost; the line after it is.
        assert_eq!(get("main.work", "/src/a.go", 12), Some(57));
        // Inlined code: its own file, still the caller's function.
        assert_eq!(get("main.work", "/src/b.go", 5), Some(20));
        assert!(c.lines.iter().all(|l| l.inlined == (l.function == "main.work" && l.file == "/src/b.go")));
        assert_eq!(get("main.helper", "/src/b.go", 5), Some(30));
        assert_eq!(c.lines.iter().map(|l| l.values[0]).sum::<u64>(), 207);
    }

    #[test]
    fn hostile_self_cost_files_are_errors() {
        assert!(self_costs("events: Ir\nfn=(1)\n").unwrap_err().contains("before it is defined"));
        assert!(self_costs("events: Ir\nfn=(x) a\n").unwrap_err().contains("not a name id"));
        assert!(self_costs("events: Ir\nfn=(1) a\n+x 1\n").unwrap_err().contains("not a position"));
        assert!(self_costs("events: Ir\nfn=(1) a\n1 1 2\n").unwrap_err().contains("more costs"));
        assert!(self_costs("fn=(1) a\n1 1\n").unwrap_err().contains("no `events:`"));
        let long = format!("events: Ir\nfn=(1) {}\n1 1\n", "x".repeat(10_000));
        assert_eq!(self_costs(&long).unwrap().lines[0].function.len(), MAX_NAME);
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
