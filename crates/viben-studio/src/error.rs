//! What can stop the studio from starting or serving.

use std::io;

use viben_model::Hint;

/// The studio could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudioError {
    /// The port could not be bound on 127.0.0.1.
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port asked for (0: any free port).
        port: u16,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The server failed while serving.
    #[error("the studio's server stopped")]
    Serve {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Neither a store nor a database was given: there would be nothing to show.
    #[error("nothing to show: the studio needs a store, a database, or both")]
    NothingToShow,
}

impl Hint for StudioError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Bind { port: 0, .. } => "check that this machine allows listening on \
                127.0.0.1"
                .to_owned(),
            Self::Bind { port, .. } => {
                format!("another program uses port {port}: leave out --port to take a free one")
            }
            Self::Serve { .. } => "start it again".to_owned(),
            Self::NothingToShow => "give a store (--home) or a database URL".to_owned(),
        })
    }
}
