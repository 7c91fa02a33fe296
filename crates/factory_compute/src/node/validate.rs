//! Node-API bindings for the validator.
use napi_derive::napi;

#[napi]
pub fn compute_version() -> u32 {
    crate::validate::version()
}
