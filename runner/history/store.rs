//! The history store (SQLite): to be written.
