//! AWS SDK implementation of the cloud traits.
