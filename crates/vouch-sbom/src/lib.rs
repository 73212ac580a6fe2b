//! SBOM encoders (placeholder).
