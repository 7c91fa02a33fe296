//! factory_compute: payload validation and analytics for factory-monitor.
//! The core is napi-free; the Node-API bindings live in `node` behind the default-on `node` feature.

pub mod analytics;
pub mod codec;
pub mod validate;

#[cfg(feature = "node")]
mod node;
