//! Process memory settings that only native code can make: the C allocator's arenas and mmap threshold.
// napi-derive compiles the exports out of unit-test builds, leaving them unused there.
#![cfg_attr(test, allow(dead_code))]

use napi_derive::napi;

/// glibc `mallopt` parameters (malloc.h).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::os::raw::c_int;
    pub const M_MMAP_THRESHOLD: c_int = -3;
    pub const M_ARENA_MAX: c_int = -8;
    extern "C" {
        pub fn mallopt(param: c_int, value: c_int) -> c_int;
    }
}

/// Caps the C allocator's per-thread arenas and fixes its mmap threshold, so that memory freed by the
/// broker, writer and thread-pool threads goes back to the system instead of staying in idle arenas (glibc
/// otherwise raises the threshold after each large free, e.g. the 16 MiB a password check takes, and keeps
/// later ones on the heap). Returns whether the allocator took both settings; false where it is not glibc.
#[napi(catch_unwind)]
pub fn tune_allocator(arena_max: u32, mmap_threshold_bytes: u32) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let clamp = |v: u32| v.min(i32::MAX as u32) as i32;
        // SAFETY: mallopt only adjusts allocator parameters; both are documented, bounded integers.
        unsafe {
            glibc::mallopt(glibc::M_ARENA_MAX, clamp(arena_max)) == 1
                && glibc::mallopt(glibc::M_MMAP_THRESHOLD, clamp(mmap_threshold_bytes)) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (arena_max, mmap_threshold_bytes);
        false
    }
}
