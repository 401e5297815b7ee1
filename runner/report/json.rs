//! results.json: written atomically (temporary file, fsync, rename) so a
//! crash or Ctrl-C never leaves a half-written file, and `reports/latest`
//! repointed to the newest run.

use crate::results::Results;
use std::io::Write;
use std::path::Path;

pub fn write_results(dir: &Path, results: &Results) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    write_atomically(&dir.join("results.json"), text.as_bytes())
}

pub fn read_results(path: &Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a perfgate results file: {e}", path.display()))
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Points `<reports>/latest` at `run_dir` (a relative symlink, swapped atomically).
pub fn update_latest(run_dir: &Path) -> std::io::Result<()> {
    let Some(parent) = run_dir.parent() else {
        return Ok(());
    };
    let Some(name) = run_dir.file_name() else {
        return Ok(());
    };
    let link = parent.join("latest");
    let tmp = parent.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(name, &tmp)?;
    std::fs::rename(&tmp, &link)
}
