//! Analytics over sensor series: statistics, anomaly detection, downsampling.
