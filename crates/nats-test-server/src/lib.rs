//! A real `nats-server` with JetStream for tests: started on a free loopback port with a temporary store
//! directory, stopped (and its store deleted) on [`Drop`]. Tests stay isolated from each other and from
//! any NATS the machine runs. [`ports::free_port`] gives the ports of the other servers tests start.
//!
//! The binary is `$NATS_SERVER_BIN` if set, else `nats-server` from `PATH` (Debian: `apt-get install
//! nats-server`; the project's scripts install it).

pub mod ports;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Creating the store directory or finding a port failed.
    #[error("preparing nats-server: {0}")]
    Io(#[from] std::io::Error),
    /// The binary could not be started.
    #[error("starting {binary}: {source} (install nats-server, or set NATS_SERVER_BIN)")]
    Spawn {
        /// The binary tried.
        binary: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The server did not accept connections in time.
    #[error("nats-server did not listen on {0} within 10 s")]
    NotReady(SocketAddr),
}

/// A running nats-server with JetStream enabled.
pub struct NatsServer {
    child: Option<Child>,
    addr: SocketAddr,
    store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> Result<Self, Error> {
        let store = tempfile::tempdir()?;
        let port = ports::free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = Self {
            child: None,
            addr,
            store,
        };
        server.spawn()?;
        Ok(server)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Kills the server at once (SIGKILL), keeping its store, e.g. to test behaviour while NATS is down.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store (after [`kill`](Self::kill)).
    pub fn restart(&mut self) -> Result<(), Error> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), Error> {
        let binary = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_string());
        let store_dir: PathBuf = self.store.path().to_path_buf();
        let child = Command::new(&binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.addr.port().to_string(),
                "-sd",
            ])
            .arg(&store_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Spawn { binary, source })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(Error::NotReady(self.addr))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
