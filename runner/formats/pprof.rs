//! pprof profiles (profile.proto, usually gzipped): decoded into a model
//! with ids resolved to indices and strings looked up, ready for `profile/`.
//! Pure: bytes in, model or a clear error out.
//!
//! The protobuf messages are declared here with prost's derive (field
//! numbers from github.com/google/pprof/proto/profile.proto), so no code
//! generator or `protoc` is needed to build perfgate.

use prost::Message;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// Why bytes are not a usable profile.
#[derive(Debug, thiserror::Error)]
pub enum PprofError {
    #[error("not a gzipped profile: the gzip stream is truncated or corrupt ({0})")]
    Gzip(std::io::Error),
    #[error("not a pprof profile: {0}")]
    Decode(String),
    #[error("not a valid pprof profile: {0}")]
    Invalid(String),
    /// Over one of the [`Limits`]: named, with how to raise it.
    #[error("profile too large: {0} (set PERFGATE_MAX_PROFILE_MB to raise the limit)")]
    TooLarge(String),
}

/// What decoding a profile may cost: the profile comes from the code under
/// test, so a few crafted bytes must not take the machine's memory. The
/// defaults hold real profiles far larger than Go writes in practice (a
/// 10.5 MB profile with a million stacks is 38 MB decompressed).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Decompressed protobuf bytes.
    pub max_bytes: usize,
    /// Estimated memory of the decoded model: entries and packed values
    /// (strings are stored once and shared by every reference).
    pub max_memory: usize,
}

const MIB: usize = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 256 * MIB, max_memory: 2048 * MIB }
    }
}

impl Limits {
    /// The defaults, or `PERFGATE_MAX_PROFILE_MB` decompressed bytes (and
    /// eight times that of memory).
    pub fn from_env() -> Limits {
        match std::env::var("PERFGATE_MAX_PROFILE_MB").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
            Some(mb) if mb > 0 => {
                let max_bytes = mb.saturating_mul(MIB);
                Limits { max_bytes, max_memory: max_bytes.saturating_mul(8).max(Limits::default().max_memory) }
            }
            _ => Limits::default(),
        }
    }
}

/// A sample type or the period type: what is measured, in which unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueType {
    pub kind: Arc<str>,
    pub unit: Arc<str>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub sample_types: Vec<ValueType>,
    /// The profile's own default sample type, if it names one.
    pub default_sample_type: Option<Arc<str>>,
    pub samples: Vec<Sample>,
    pub locations: Vec<Location>,
    pub functions: Vec<Function>,
    pub mappings: Vec<Mapping>,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub comments: Vec<Arc<str>>,
}

#[derive(Debug, Clone)]
pub struct Sample {
    /// Indices into `Profile::locations`, leaf first.
    pub locations: Vec<usize>,
    pub values: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Location {
    pub mapping: Option<usize>,
    pub address: u64,
    /// Innermost (inlined) function first, the physical frame last.
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// Index into `Profile::functions`.
    pub function: Option<usize>,
    pub line: i64,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: Arc<str>,
    pub system_name: Arc<str>,
    pub filename: Arc<str>,
    pub start_line: i64,
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pub file: Arc<str>,
    pub build_id: Arc<str>,
}

impl Profile {
    /// Which value `-sample_index` selects, as pprof does: an index, a type
    /// name (also with `inuse_` dropped), or by default the profile's
    /// default type, else the last one.
    pub fn sample_index(&self, name: Option<&str>) -> Result<usize, String> {
        let n = self.sample_types.len();
        if n == 0 {
            return Err("the profile has no sample types".into());
        }
        let Some(name) = name.filter(|s| !s.is_empty()) else {
            if let Some(d) = &self.default_sample_type
                && let Some(i) = self.sample_types.iter().position(|t| &t.kind == d)
            {
                return Ok(i);
            }
            return Ok(n - 1);
        };
        if let Ok(i) = name.parse::<i64>() {
            return usize::try_from(i)
                .ok()
                .filter(|i| *i < n)
                .ok_or_else(|| format!("sample_index {i} is outside the range [0..{}]", n - 1));
        }
        let stripped = name.strip_prefix("inuse_");
        self.sample_types.iter().position(|t| *t.kind == *name || Some(&*t.kind) == stripped).ok_or_else(|| {
            let names: Vec<&str> = self.sample_types.iter().map(|t| &*t.kind).collect();
            format!("sample_index {name:?} must be one of: [{}]", names.join(" "))
        })
    }
}

/// Decodes a profile, gzipped (as Go writes them) or not, within
/// [`Limits::from_env`].
pub fn decode(bytes: &[u8]) -> Result<Profile, PprofError> {
    decode_with(bytes, &Limits::from_env())
}

pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Profile, PprofError> {
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limits.max_bytes));
        let cap = limits.max_bytes as u64;
        let mut stream = flate2::read::MultiGzDecoder::new(bytes).take(cap + 1);
        // The first field tells garbage (a gzip of zeros) from a profile
        // before anything large is inflated.
        let mut head = [0u8; 16];
        let mut n = 0;
        while n < head.len() {
            match stream.read(&mut head[n..]).map_err(PprofError::Gzip)? {
                0 => break,
                k => n += k,
            }
        }
        check_first_field(&head[..n])?;
        out.extend_from_slice(&head[..n]);
        stream.read_to_end(&mut out).map_err(PprofError::Gzip)?;
        if out.len() as u64 > cap {
            return Err(PprofError::TooLarge(format!("over {} MiB decompressed", limits.max_bytes / MIB)));
        }
        out
    } else if bytes.len() > limits.max_bytes {
        return Err(PprofError::TooLarge(format!("over {} MiB", limits.max_bytes / MIB)));
    } else {
        bytes.to_vec()
    };
    let estimate = estimate_memory(&raw)?;
    if estimate > limits.max_memory {
        return Err(PprofError::TooLarge(format!(
            "decoding would take about {} MiB of memory (limit {} MiB)",
            estimate / MIB,
            limits.max_memory / MIB
        )));
    }
    let p = pb::Profile::decode(raw.as_slice()).map_err(|e| PprofError::Decode(e.to_string()))?;
    let profile = resolve(p)?;
    check_expansion(&profile, limits)?;
    Ok(profile)
}

/// Bytes one expanded frame takes in `profile top`'s walks.
const FRAME_COST: u64 = 32;

/// Samples name locations and locations name lines, so a few bytes can ask
/// for a product: a million samples of one location with a million inlined
/// lines. Every consumer (top, diff, fold, the call tree) expands each
/// sample into its frames; what that costs is counted here once, in time
/// linear in the profile, and refused over the memory limit.
fn check_expansion(p: &Profile, limits: &Limits) -> Result<(), PprofError> {
    let per_location: Vec<(u64, u64)> = p
        .locations
        .iter()
        .map(|l| {
            let object = || l.mapping.map(|m| p.mappings[m].file.len() as u64 + 2).unwrap_or(9);
            if l.lines.is_empty() {
                return (1, object() + 1);
            }
            let text = l
                .lines
                .iter()
                .map(|line| match line.function.map(|f| &p.functions[f]) {
                    Some(f) if !f.name.is_empty() => f.name.len() as u64 + 1,
                    _ => object() + 1,
                })
                .fold(0u64, u64::saturating_add);
            (l.lines.len() as u64, text)
        })
        .collect();
    let (mut frames, mut text) = (0u64, 0u64);
    for s in &p.samples {
        for &loc in &s.locations {
            let (f, t) = per_location[loc];
            frames = frames.saturating_add(f);
            text = text.saturating_add(t);
        }
    }
    let cost = frames.saturating_mul(FRAME_COST).saturating_add(text);
    if cost > limits.max_memory as u64 {
        return Err(PprofError::TooLarge(format!(
            "its {} samples expand to {frames} frames and {} MiB of stack text (limit {} MiB of memory)",
            p.samples.len(),
            text / MIB as u64,
            limits.max_memory / MIB
        )));
    }
    Ok(())
}

/// A profile.proto message starts with a key of a field it knows (1–14)
/// and a wire type protobuf has; anything else is not a profile.
fn check_first_field(head: &[u8]) -> Result<(), PprofError> {
    let Some(&first) = head.first() else { return Ok(()) };
    let (field, wire) = (u64::from(first & 0x7f) >> 3, first & 7);
    let known = first & 0x80 != 0 || (1..=14).contains(&field);
    if !known || !matches!(wire, 0 | 1 | 2 | 5) {
        return Err(PprofError::Decode(format!("its first byte {first:#04x} starts no profile.proto field")));
    }
    Ok(())
}

/// Memory the decoded message would take, from a scan of its top-level
/// fields: each entry's struct, and packed integers widened to 8 bytes
/// (at most 8 per byte of input). An upper bound, not an exact figure.
fn estimate_memory(raw: &[u8]) -> Result<usize, PprofError> {
    let bad = |what: &str| PprofError::Decode(format!("{what} at the top level"));
    let varint = |at: &mut usize| -> Result<u64, PprofError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *raw.get(*at).ok_or_else(|| bad("truncated varint"))?;
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("overlong varint"))
    };
    let mut at = 0;
    let mut total = raw.len().saturating_mul(9);
    while at < raw.len() {
        let key = varint(&mut at)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(&mut at)?;
            }
            1 => at += 8,
            5 => at += 4,
            2 => {
                let len = usize::try_from(varint(&mut at)?).map_err(|_| bad("length"))?;
                at = at.checked_add(len).filter(|end| *end <= raw.len()).ok_or_else(|| bad("truncated field"))?;
            }
            _ => return Err(bad("unsupported wire type")),
        }
        // Per entry of each repeated message or string: its decoded struct.
        let cost = match field {
            2 => 64,      // sample: two vectors
            4 => 72,      // location
            5 | 3 => 112, // function, mapping
            6 | 1 => 32,  // string, value type
            _ => 8,
        };
        total = total.saturating_add(cost);
    }
    Ok(total)
}

fn resolve(p: pb::Profile) -> Result<Profile, PprofError> {
    if p.string_table.first().is_some_and(|s| !s.is_empty()) {
        return Err(PprofError::Invalid("string_table[0] must be empty".into()));
    }
    // Each string is stored once and shared by every reference to it, so
    // one huge string named many times costs its size once.
    let strings: Vec<Arc<str>> = p.string_table.iter().map(|t| Arc::from(t.as_str())).collect();
    let s = |i: i64| -> Result<Arc<str>, PprofError> {
        usize::try_from(i)
            .ok()
            .and_then(|i| strings.get(i))
            .cloned()
            .ok_or_else(|| PprofError::Invalid(format!("string index {i} is out of range ({})", strings.len())))
    };
    let value_type =
        |v: &pb::ValueType| -> Result<ValueType, PprofError> { Ok(ValueType { kind: s(v.r#type)?, unit: s(v.unit)? }) };
    let sample_types = p.sample_type.iter().map(value_type).collect::<Result<Vec<_>, _>>()?;

    let mut mapping_index = HashMap::new();
    let mut mappings = Vec::with_capacity(p.mapping.len());
    for m in &p.mapping {
        mapping_index.insert(m.id, mappings.len());
        mappings.push(Mapping { file: s(m.filename)?, build_id: s(m.build_id)? });
    }
    let mut function_index = HashMap::new();
    let mut functions = Vec::with_capacity(p.function.len());
    for f in &p.function {
        function_index.insert(f.id, functions.len());
        let (name, system_name) = (s(f.name)?, s(f.system_name)?);
        functions.push(Function {
            // pprof shows C++ and Rust symbols demangled, without parameters.
            name: if name == system_name || name.is_empty() {
                demangle(&system_name).or_else(|| simplified(&system_name)).map(Arc::from).unwrap_or(name)
            } else {
                name
            },
            system_name,
            filename: s(f.filename)?,
            start_line: f.start_line,
        });
    }
    let mut location_index = HashMap::new();
    let mut locations = Vec::with_capacity(p.location.len());
    for l in &p.location {
        let mapping = match l.mapping_id {
            0 => None,
            id => Some(
                *mapping_index
                    .get(&id)
                    .ok_or_else(|| PprofError::Invalid(format!("location {} names unknown mapping {id}", l.id)))?,
            ),
        };
        let lines = l
            .line
            .iter()
            .map(|ln| {
                let function = match ln.function_id {
                    0 => None,
                    id => Some(*function_index.get(&id).ok_or_else(|| {
                        PprofError::Invalid(format!("location {} names unknown function {id}", l.id))
                    })?),
                };
                Ok(Line { function, line: ln.line })
            })
            .collect::<Result<Vec<_>, PprofError>>()?;
        location_index.insert(l.id, locations.len());
        locations.push(Location { mapping, address: l.address, lines });
    }
    let samples = p
        .sample
        .into_iter()
        .map(|smp| {
            if smp.value.len() != sample_types.len() {
                return Err(PprofError::Invalid(format!(
                    "a sample has {} values for {} sample types",
                    smp.value.len(),
                    sample_types.len()
                )));
            }
            let locations = smp
                .location_id
                .iter()
                .map(|id| {
                    location_index
                        .get(id)
                        .copied()
                        .ok_or_else(|| PprofError::Invalid(format!("a sample names unknown location {id}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Sample { locations, values: smp.value })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let default_sample_type = match p.default_sample_type {
        0 => None,
        i => Some(s(i)?).filter(|t| !t.is_empty()),
    };
    Ok(Profile {
        sample_types,
        default_sample_type,
        samples,
        locations,
        functions,
        mappings,
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period_type: p.period_type.as_ref().map(value_type).transpose()?,
        period: p.period,
        comments: p.comment.iter().map(|&c| s(c)).collect::<Result<_, _>>()?,
    })
}

/// One frame of a stack to encode: a function, its source file and a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    pub function: &'a str,
    pub file: &'a str,
    pub line: i64,
}

/// Writes stacks (frames leaf first, one value per sample type) as a
/// gzipped profile.proto that `go tool pprof` and [`decode`] read: how
/// counts measured elsewhere (callgrind's) become a profile like any other.
pub fn encode(sample_types: &[(&str, &str)], samples: &[(Vec<Frame<'_>>, Vec<i64>)], comments: &[&str]) -> Vec<u8> {
    let mut strings: Vec<String> = vec![String::new()];
    let mut string_ids: HashMap<String, i64> = HashMap::from([(String::new(), 0)]);
    let mut id = |text: &str| -> i64 {
        if let Some(&i) = string_ids.get(text) {
            return i;
        }
        strings.push(text.to_string());
        string_ids.insert(text.to_string(), strings.len() as i64 - 1);
        strings.len() as i64 - 1
    };
    let sample_type: Vec<pb::ValueType> =
        sample_types.iter().map(|(t, u)| pb::ValueType { r#type: id(t), unit: id(u) }).collect();
    let (mut functions, mut function_ids) = (Vec::new(), HashMap::new());
    let (mut locations, mut location_ids) = (Vec::new(), HashMap::new());
    let mut sample = Vec::with_capacity(samples.len());
    for (frames, values) in samples {
        let mut location_id = Vec::with_capacity(frames.len());
        for f in frames {
            let function_id = *function_ids.entry((f.function, f.file)).or_insert_with(|| {
                let fid = functions.len() as u64 + 1;
                let name = id(f.function);
                functions.push(pb::Function { id: fid, name, system_name: name, filename: id(f.file), start_line: 0 });
                fid
            });
            let lid = *location_ids.entry((function_id, f.line)).or_insert_with(|| {
                let lid = locations.len() as u64 + 1;
                let line = vec![pb::Line { function_id, line: f.line }];
                locations.push(pb::Location { id: lid, mapping_id: 0, address: 0, line });
                lid
            });
            location_id.push(lid);
        }
        sample.push(pb::Sample { location_id, value: values.clone() });
    }
    let comment = comments.iter().map(|c| id(c)).collect();
    let profile = pb::Profile {
        sample_type,
        sample,
        mapping: Vec::new(),
        location: locations,
        function: functions,
        string_table: strings,
        time_nanos: 0,
        duration_nanos: 0,
        period_type: None,
        period: 0,
        comment,
        default_sample_type: 0,
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = std::io::Write::write_all(&mut gz, &profile.encode_to_vec());
    gz.finish().unwrap_or_default()
}

/// A mangled C++ (`_Z…`) or Rust (`_R…`) symbol, simplified as pprof shows
/// it: no parameters, no template arguments. `None` if it is not mangled
/// (Go names never are).
pub fn demangle(symbol: &str) -> Option<String> {
    let candidates = [symbol, symbol.strip_prefix('_').unwrap_or("")];
    for sym in candidates.into_iter().filter(|s| s.starts_with("_Z") || s.starts_with("_R")) {
        if sym.starts_with("_R")
            && let Ok(d) = rustc_demangle::try_demangle(sym)
        {
            return Some(format!("{d:#}"));
        }
        let Ok(parsed) = cpp_demangle::Symbol::new(sym) else { continue };
        let opts = cpp_demangle::DemangleOptions::new().no_params().no_return_type();
        if let Ok(d) = parsed.demangle_with_options(&opts) {
            return Some(strip_template_args(&d));
        }
    }
    None
}

/// A name that is not mangled but looks like demangled C++ (`<>`, `[]` or
/// `::` in it), simplified as pprof's symbolizer does: parameter lists and
/// template arguments removed. Go names of the form `pkg.(*T[...]).M` and
/// Java's `class.<init>` are left alone. `None` when nothing changes.
fn simplified(name: &str) -> Option<String> {
    let looks_cpp =
        !name.contains(".<") && !name.contains("]).") && (name.contains(['<', '>', '[', ']']) || name.contains("::"));
    if !looks_cpp {
        return None;
    }
    let out = remove_matching(&remove_matching(name, b'(', b')'), b'<', b'>');
    (out != name).then_some(out)
}

/// Removes every outermost `open … close` span; a name whose brackets do
/// not match is returned as it is (pprof's `removeMatching`).
fn remove_matching(name: &str, open: u8, close: u8) -> String {
    let bytes = name.as_bytes();
    let (mut out, mut nesting, mut first, mut kept_from) = (String::with_capacity(name.len()), 0usize, 0usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        if b == open {
            nesting += 1;
            if nesting == 1 {
                first = i;
            }
        } else if b == close {
            if nesting == 0 {
                return name.to_string();
            }
            nesting -= 1;
            if nesting == 0 {
                out.push_str(&name[kept_from..first]);
                kept_from = i + 1;
            }
        }
    }
    out.push_str(&name[kept_from..]);
    out
}

/// `ns::f<int>::g` → `ns::f::g` (pprof's demangler drops template arguments).
fn strip_template_args(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for (i, c) in name.char_indices() {
        let operator = name[..i].ends_with("operator") || name[..i].ends_with("operator<");
        match c {
            '<' if !operator => depth += 1,
            '>' if depth > 0 && !operator => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The wire messages of profile.proto (only the fields perfgate reads).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "9")]
        pub time_nanos: i64,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, repeated, tag = "13")]
        pub comment: Vec<i64>,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
        #[prost(int64, tag = "6")]
        pub build_id: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(uint64, tag = "3")]
        pub address: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
        #[prost(int64, tag = "5")]
        pub start_line: i64,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn gzip(raw: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(raw).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_decompressed_limit_and_names_it() {
        // 64 MiB of zeros: ~64 KB gzipped; refused at its first byte.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 200_000);
        let e = decode(&bomb).unwrap_err().to_string();
        assert!(e.contains("starts no profile.proto field"), "{e}");
        // 64 MiB of a valid-looking field (a varint time_nanos, repeated):
        // with a 4 MiB limit decoding stops there.
        let bomb = gzip(&[0x48u8, 0x01].repeat(32 << 20));
        let limits = Limits { max_bytes: 4 << 20, max_memory: 64 << 20 };
        let e = decode_with(&bomb, &limits).unwrap_err().to_string();
        assert!(e.contains("profile too large") && e.contains("4 MiB decompressed"), "{e}");
        assert!(e.contains("PERFGATE_MAX_PROFILE_MB"), "{e}");
    }

    #[test]
    fn one_huge_string_named_many_times_is_shared_not_copied() {
        // The reported repro: one 1 MB string and 100k references to it
        // (~100 GB if each reference copied it); about a kilobyte gzipped.
        let p = pb::Profile {
            string_table: vec![String::new(), "x".repeat(1 << 20)],
            comment: vec![1; 100_000],
            ..Default::default()
        };
        let bytes = gzip(&p.encode_to_vec());
        assert!(bytes.len() < 10_000, "{}", bytes.len());
        let p = decode(&bytes).unwrap();
        assert_eq!(p.comments.len(), 100_000);
        assert_eq!(p.comments[0].len(), 1 << 20);
        assert!(p.comments.iter().all(|c| Arc::ptr_eq(c, &p.comments[0])), "every reference shares one string");
    }

    #[test]
    fn names_that_look_like_cpp_are_simplified_as_pprof_does() {
        // Seen in an instruction profile: pprof printed the right-hand sides.
        assert_eq!(
            simplified("context.(*cancelCtx).cancel [inlined mutex.go]").as_deref(),
            Some("context..cancel [inlined mutex.go]")
        );
        assert_eq!(simplified("errors.init [inlined <autogenerated>]").as_deref(), Some("errors.init [inlined ]"));
        // Go generics and methods on them, Java constructors, plain Go: unchanged.
        assert_eq!(simplified("slices.partitionOrdered[go.shape.float64]"), None);
        assert_eq!(simplified("pkg.(*List[go.shape.int]).Push"), None);
        assert_eq!(simplified("java.Foo.<init>"), None);
        assert_eq!(simplified("main.(*T).m"), None);
        // Unbalanced brackets are left as they are.
        assert_eq!(simplified("a::b)(c"), None);
        assert_eq!(simplified("ns::f(int, (anon))::g"), Some("ns::f::g".into()));
    }

    #[test]
    fn encoded_stacks_decode_to_the_same_frames() {
        let f = |function, line| Frame { function, file: "/src/a.go", line };
        let samples = vec![(vec![f("leaf", 7), f("main", 3)], vec![40]), (vec![f("leaf", 8), f("main", 3)], vec![2])];
        let p = decode(&encode(&[("instructions", "count")], &samples, &["from callgrind"])).unwrap();
        assert_eq!(p.sample_types[0], ValueType { kind: "instructions".into(), unit: "count".into() });
        assert_eq!(p.samples.len(), 2);
        let leaf = &p.locations[p.samples[0].locations[0]];
        assert_eq!((&*p.functions[leaf.lines[0].function.unwrap()].name, leaf.lines[0].line), ("leaf", 7));
        assert_eq!(p.samples[1].values, vec![2]);
        assert_eq!(&*p.comments[0], "from callgrind");
        assert_eq!(p.functions.len(), 2, "one function per name and file");
    }

    #[test]
    fn samples_that_expand_to_a_product_are_refused() {
        // One location with 10k inlined lines of a 1 KB name, named 100
        // times by each of 10k samples: 10^10 frames from a kilobyte.
        let p = pb::Profile {
            sample_type: vec![pb::ValueType { r#type: 1, unit: 1 }],
            sample: vec![pb::Sample { location_id: vec![1; 100], value: vec![1] }; 10_000],
            location: vec![pb::Location {
                id: 1,
                mapping_id: 0,
                address: 0,
                line: vec![pb::Line { function_id: 1, line: 1 }; 10_000],
            }],
            function: vec![pb::Function { id: 1, name: 2, system_name: 2, filename: 0, start_line: 0 }],
            string_table: vec![String::new(), "n".into(), "f".repeat(1024)],
            ..Default::default()
        };
        let bytes = gzip(&p.encode_to_vec());
        assert!(bytes.len() < 20_000, "{}", bytes.len());
        let e = decode(&bytes).unwrap_err().to_string();
        assert!(e.contains("profile too large") && e.contains("expand to 10000000000 frames"), "{e}");
    }

    #[test]
    fn many_tiny_entries_are_counted_before_they_are_allocated() {
        // 2 million empty samples: 4 MB on the wire, far more as structs.
        let raw: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], 2_000_000).flatten().collect();
        let limits = Limits { max_bytes: 8 << 20, max_memory: 64 << 20 };
        let e = decode_with(&raw, &limits).unwrap_err().to_string();
        assert!(e.contains("would take about") && e.contains("limit 64 MiB"), "{e}");
        // Within a larger budget the same input decodes.
        let roomy = Limits { max_bytes: 8 << 20, max_memory: 1 << 30 };
        let samples = decode_with(&raw, &roomy).map(|p| p.samples.len()).map_err(|e| e.to_string());
        assert_eq!(samples, Ok(2_000_000));
    }

    #[test]
    fn the_defaults_decode_a_real_profile() {
        let p = decode(&tiny()).unwrap();
        assert_eq!(p.samples.len(), 3);
    }

    /// A tiny profile built with the same messages: main → work (inlined
    /// helper inside), 3 samples.
    pub(crate) fn tiny() -> Vec<u8> {
        let st: Vec<String> =
            ["", "samples", "count", "cpu", "nanoseconds", "main", "work", "helper", "/src/a.go", "app"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let f = |id, name| pb::Function { id, name, system_name: name, filename: 8, start_line: 10 * id as i64 };
        let p = pb::Profile {
            sample_type: vec![pb::ValueType { r#type: 1, unit: 2 }, pb::ValueType { r#type: 3, unit: 4 }],
            sample: vec![
                pb::Sample { location_id: vec![2, 1], value: vec![1, 10] },
                pb::Sample { location_id: vec![2, 1], value: vec![2, 20] },
                pb::Sample { location_id: vec![1], value: vec![1, 5] },
            ],
            mapping: vec![pb::Mapping { id: 1, filename: 9, build_id: 0 }],
            location: vec![
                pb::Location { id: 1, mapping_id: 1, address: 0x10, line: vec![pb::Line { function_id: 1, line: 12 }] },
                pb::Location {
                    id: 2,
                    mapping_id: 1,
                    address: 0x20,
                    line: vec![pb::Line { function_id: 3, line: 31 }, pb::Line { function_id: 2, line: 22 }],
                },
            ],
            function: vec![f(1, 5), f(2, 6), f(3, 7)],
            string_table: st,
            time_nanos: 1,
            duration_nanos: 1_000_000_000,
            period_type: None,
            period: 10_000_000,
            comment: vec![],
            default_sample_type: 0,
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &p.encode_to_vec()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn decodes_gzipped_profiles_and_resolves_ids() {
        let p = decode(&tiny()).unwrap();
        assert_eq!(p.sample_types[1], ValueType { kind: "cpu".into(), unit: "nanoseconds".into() });
        assert_eq!(p.sample_index(None).unwrap(), 1, "no default: the last type");
        assert_eq!(p.sample_index(Some("samples")).unwrap(), 0);
        assert_eq!(p.sample_index(Some("0")).unwrap(), 0);
        assert!(p.sample_index(Some("7")).unwrap_err().contains("outside the range [0..1]"));
        assert!(p.sample_index(Some("space")).unwrap_err().contains("[samples cpu]"));
        let loc = &p.locations[p.samples[0].locations[0]];
        let names: Vec<&str> = loc.lines.iter().map(|l| &*p.functions[l.function.unwrap()].name).collect();
        assert_eq!(names, vec!["helper", "work"], "innermost first");
        assert_eq!(&*p.mappings[0].file, "app");
    }

    #[test]
    fn mangled_symbols_are_shown_as_pprof_shows_them() {
        assert_eq!(demangle("_ZN3foo3barEv").as_deref(), Some("foo::bar"));
        assert_eq!(demangle("_ZN2ns1fIiE1gEv").as_deref(), Some("ns::f::g"));
        assert_eq!(demangle("main.main"), None);
        assert_eq!(demangle("runtime.(*mheap).allocSpan"), None);
    }

    #[test]
    fn bad_bytes_are_clear_errors() {
        let gz = tiny();
        let truncated = &gz[..gz.len() / 2];
        assert!(matches!(decode(truncated), Err(PprofError::Gzip(_))), "{:?}", decode(truncated).err());
        let err = decode(b"hello, this is not a profile").unwrap_err().to_string();
        assert!(err.starts_with("not a"), "{err}");
        // A sample pointing at a location that does not exist.
        let bad = pb::Profile {
            string_table: vec![String::new()],
            sample: vec![pb::Sample { location_id: vec![9], value: vec![] }],
            ..Default::default()
        };
        let err = decode(&bad.encode_to_vec()).unwrap_err().to_string();
        assert!(err.contains("unknown location 9"), "{err}");
    }
}
