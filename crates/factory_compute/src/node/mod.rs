//! Node-API bindings: thin wrappers over the napi-free core. Every export catches panics.
mod analytics;
mod codec;
mod memory;
mod validate;
