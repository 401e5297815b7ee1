//! Change point detection: to be written.
