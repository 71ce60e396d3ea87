//! What every test of the workspace needs from the machine, created fresh for one test and
//! removed when the test ends, whether it passed or failed (a `Drop` guard, so a panic cleans up
//! too):
//!
//! - [`TestDb`]: an empty database on SQLite (a file) or on PostgreSQL (a database created on
//!   the server of `TEST_DATABASE_URL`). [`backends`] says which to run on: SQLite always,
//!   PostgreSQL too when `TEST_DATABASE_URL` is set. A set URL that is malformed or unreachable
//!   fails the test loudly; it never skips PostgreSQL.
//! - [`scratch_dir`]: an empty directory; [`scratch_file`]: a file with the given contents.
//! - [`codings`]: bodies in gzip and brotli, made and read with the reference crates.
//!
//! Setup failures panic with a message that names what is missing: this crate only runs in
//! tests, where a panic is the failure report.

pub mod codings;
mod database;

pub use database::{Backend, TestDb, backends};

/// A file under the system temp dir holding `contents`, deleted when dropped.
pub fn scratch_file(label: &str, contents: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("licensedot-{label}-"))
        .tempfile()
        .unwrap_or_else(|err| panic!("cannot create a scratch file in the temp dir: {err}"));
    std::io::Write::write_all(&mut file, contents.as_bytes())
        .unwrap_or_else(|err| panic!("cannot write the scratch file: {err}"));
    file.into_temp_path()
}

/// An empty directory under the system temp dir, deleted with its contents when dropped.
/// `label` makes it recognisable while a test runs.
pub fn scratch_dir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("licensedot-{label}-"))
        .tempdir()
        .unwrap_or_else(|err| panic!("cannot create a scratch directory in the temp dir: {err}"))
}
