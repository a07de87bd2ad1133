//! Starting the studio: a listener on 127.0.0.1, the routes, and the URL to print.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use viben_db::Pool;
use viben_store::Store;

use crate::auth::Access;
use crate::error::StudioError;
use crate::pages::{self, AppState};

/// What the studio shows, and where it listens.
#[derive(Debug, Default)]
pub struct StudioBuilder {
    store: Option<Store>,
    pool: Option<Pool>,
    port: u16,
}

impl StudioBuilder {
    /// Shows this desktop store (agents, models, providers, channels, sessions, telemetry).
    pub fn store(mut self, store: Store) -> Self {
        self.store = Some(store);
        self
    }

    /// Shows the accounts database behind this pool (users, their OAuth connections, the
    /// migration status and the drift check).
    pub fn database(mut self, pool: Pool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Listens on this port of 127.0.0.1; 0 (the default) takes a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds the port on 127.0.0.1 (never another interface) and makes this run's token.
    /// Must be called within a tokio runtime.
    pub async fn bind(self) -> Result<Studio, StudioError> {
        if self.store.is_none() && self.pool.is_none() {
            return Err(StudioError::NothingToShow);
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(|source| StudioError::Bind {
                port: self.port,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StudioError::Bind {
            port: self.port,
            source,
        })?;
        let state = Arc::new(AppState {
            store: self.store,
            pool: self.pool,
            access: Access::new(address.port()),
        });
        Ok(Studio {
            listener,
            address,
            state,
        })
    }
}

/// A bound studio, ready to serve.
pub struct Studio {
    listener: TcpListener,
    address: SocketAddr,
    state: Arc<AppState>,
}

impl std::fmt::Debug for Studio {
    /// Leaves the token out: a debug print must not hand out access.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Studio")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Studio {
    /// Starts building a studio.
    pub fn builder() -> StudioBuilder {
        StudioBuilder::default()
    }

    /// The address it listens on (127.0.0.1 and the port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL to open, with this run's token: whoever has it may use the studio, so print it
    /// only to the person who started it.
    pub fn url(&self) -> String {
        format!(
            "http://{}/?token={}",
            self.address,
            self.state.access.token()
        )
    }

    /// Serves until `shutdown` completes, then lets the requests in flight finish.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StudioError> {
        let router = pages::router(self.state);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| StudioError::Serve { source })
    }
}
