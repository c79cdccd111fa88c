//! Renderers: one file per output format. Only renderers know output formats.
