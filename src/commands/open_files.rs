//! The open-files limit: the REST server (up to `ALICIA_MAX_CONNECTIONS` connections), the
//! embedded broker and the config writer share one file-descriptor table, and a soft limit of
//! 1024 (the usual default) would let a connection flood starve the writer. The soft limit is
//! raised to the hard one at start, as servers commonly do; the systemd unit raises both.

/// Raises the soft limit on open files to the hard limit; returns the limit now in force.
#[cfg(unix)]
pub fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(error) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!(%error, "the open-files limit could not be raised");
            return getrlimit(Resource::Nofile).current;
        }
    }
    limit.current
}

/// Elsewhere the platform's default stands.
#[cfg(not(unix))]
pub fn raise_open_files_limit() -> Option<u64> {
    None
}
