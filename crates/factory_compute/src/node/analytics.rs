//! Node-API bindings for analytics.
