//! The machine a run happened on (results.json `environment`): numbers are
//! only comparable between runs on similar machines, so every run says where
//! it ran.

use crate::results::Environment;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

pub fn capture() -> Environment {
    let sys = System::new_with_specifics(
        RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()).with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    let cpu_model =
        sys.as_ref().and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string())).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    Environment {
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_string()),
        kernel: System::kernel_version().unwrap_or_default(),
        cpu_model,
        cores,
        memory_bytes: sys.as_ref().map(|s| s.total_memory()).unwrap_or(0),
        hostname: System::host_name().unwrap_or_default(),
        go: Vec::new(),
        noise: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_machine() {
        let env = super::capture();
        assert!(env.cores >= 1);
        assert!(env.memory_bytes > 64 * 1024 * 1024, "{env:?}");
        assert!(!env.kernel.is_empty(), "{env:?}");
    }
}
