//! Plan rendering.
